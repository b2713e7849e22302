"""The one Jinja2 environment analyst templates and conditions run in.

Immutable sandbox (no attribute mutation, no unsafe calls), StrictUndefined (a typo is an
error, not an empty string), the registered filter set, and caps on `*` and `**` so a
template cannot allocate gigabytes."""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .filters import FILTERS

MAX_REPEAT = 100_000
MAX_EXPONENT = 1_000


class FlowEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError("exponent too large")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(count, int) and count * len(seq) > MAX_REPEAT:
                    raise SecurityError("repetition too large")
        return super().call_binop(context, operator, left, right)


def _build() -> FlowEnvironment:
    env = FlowEnvironment(undefined=StrictUndefined, autoescape=False, cache_size=0)
    env.filters.update(FILTERS)
    return env


ENV = _build()
