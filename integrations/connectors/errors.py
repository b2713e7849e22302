"""One error type for every connector failure, so the runner decides retries without
knowing the vendor (docs/RELIABILITY.md §6): transient → retry with backoff honouring
`retry_after`; permanent → exception at once."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

Kind = Literal["transient", "permanent"]

# 408 timeout, 425 too early, 429 throttled, 5xx server side: worth another attempt.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class ConnectorError(Exception):
    """A call to a system failed.

    `ambiguous` means the request may have reached the system (timeout after sending,
    connection dropped mid-answer): the next attempt must look the record up by its
    external reference, or replay the same idempotency key, before posting again.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: Kind = "permanent",
        status_code: int | None = None,
        retry_after: float | None = None,
        ambiguous: bool = False,
        vendor_code: str | None = None,
    ) -> None:
        super().__init__(message)
        if kind not in ("transient", "permanent"):
            raise ValueError(f"kind must be 'transient' or 'permanent', not {kind!r}")
        self.message = message
        self.kind: Kind = kind
        self.status_code = status_code
        self.retry_after = retry_after
        self.ambiguous = ambiguous
        self.vendor_code = vendor_code

    @property
    def transient(self) -> bool:
        return self.kind == "transient"

    def as_dict(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "kind": self.kind,
            "status_code": self.status_code,
            "retry_after": self.retry_after,
            "ambiguous": self.ambiguous,
            "vendor_code": self.vendor_code,
        }

    def __repr__(self) -> str:
        return f"ConnectorError({self.message!r}, kind={self.kind!r}, status_code={self.status_code})"


class BlockedDestination(ConnectorError):
    """The outbound HTTP module refused the URL (host not allowed, private address...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="permanent")


class WebhookRejected(Exception):
    """An inbound webhook failed verification; `reason` is safe to show and log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EventInvalid(ValueError):
    """An inbound payload that cannot become an event; `field` names the part that is wrong.

    Declared here, at the bottom, because both the event intake (integrations.events) and the
    connectors that read a vendor's webhook body raise it; the API answers 400 naming `field`."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds to wait: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def classify_status(status: int, retry_after: str | float | None = None) -> tuple[Kind, float | None]:
    """(kind, retry_after seconds) for an HTTP status that is not a success."""
    seconds = retry_after if isinstance(retry_after, float | int) else parse_retry_after(retry_after)
    kind: Kind = "transient" if status in TRANSIENT_STATUSES or status >= 500 else "permanent"
    return kind, (float(seconds) if seconds is not None else None)
