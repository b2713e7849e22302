"""The one way a lower app tells a higher one that something happened.

Imports go only down the layers (docs/ARCHITECTURE.md). When a lower app has news a higher
app acts on — a delivery finished, an approval was decided, an event was stored — the lower
app declares a `Hook` in its own `hooks.py` and calls `send` at that moment; the higher app
connects its handler in its `AppConfig.ready()`. The lower app never names the higher one.

Deliberately smaller than Django signals: handlers run in the order they were connected,
in the caller's thread and transaction, and an exception in a handler propagates to the
sender (nothing is swallowed, as `send_robust` would). `send` returns the handlers' results
in order, so a question ("who still uses this connection?") can be asked the same way.
Kernel module: imports no app."""

from collections.abc import Callable
from typing import Any


class Hook:
    """One named announcement of a lower app, with the handlers higher apps connected."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[Callable[..., Any]] = []

    def connect(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Add `handler` (called with the keyword arguments of `send`); connecting the
        same handler twice (a second `ready()`, e.g. in tests) keeps one."""
        if handler not in self._handlers:
            self._handlers.append(handler)
        return handler

    def disconnect(self, handler: Callable[..., Any]) -> None:
        if handler in self._handlers:
            self._handlers.remove(handler)

    def send(self, **kwargs: Any) -> list[Any]:
        """Call every handler in order with `kwargs`; their results, in the same order."""
        return [handler(**kwargs) for handler in list(self._handlers)]

    @property
    def handlers(self) -> tuple[Callable[..., Any], ...]:
        return tuple(self._handlers)

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._handlers)} handler(s)>"
