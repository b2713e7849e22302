"""The side-effect boundary of the engine: what the runtime must provide to `run`.

The engine never touches the database or the network; lookups, crosswalk reads, deliveries,
approvals and batching go through an `Effects` object. Any of `deliver`, `approve` and
`batch` may answer `PENDING`, which suspends the run at that step until the runtime resumes it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from .plan import CompiledStep


class _Pending:
    _instance: _Pending | None = None

    def __new__(cls) -> _Pending:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "PENDING"


PENDING = _Pending()


@dataclass(frozen=True)
class DeliveryRequest:
    connection: str
    object: str
    action: Literal["create", "update", "upsert"]
    key: str  # rendered idempotency key, unique per intended write
    payload: dict[str, Any]
    external_id_field: str | None = None
    external_id: str | None = None
    # The ledger key of an earlier delivery this write waits for (a deliver step's `after`):
    # the runtime requests it only once that delivery has succeeded.
    after: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if out["after"] is None:
            del out["after"]
        return out


@dataclass(frozen=True)
class DeliveryResult:
    status: Literal["succeeded", "failed"]
    remote_id: str | None = None
    response: str = ""  # short excerpt, never credentials
    simulated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ApprovalRequest:
    step_id: str
    approvers: dict[str, Any]  # {"group": ...} | {"users": [...]} | {"user": "<rendered>"}
    policy: Literal["any", "all"]
    sla_hours: float | None
    on_expiry: Literal["escalate", "auto-reject", "auto-approve"]
    summary: str
    record: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ApprovalDecision:
    outcome: Literal["approved", "rejected"]
    by: str = ""
    comment: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Effects(Protocol):
    def lookup(self, step: CompiledStep, request: dict[str, Any]) -> dict[str, Any] | None:
        """Read one related record; None when not found. Raise EffectError on failure."""

    def crosswalk(self, object: str, system: str, external_id: str) -> str | None:
        """Canonical id linked to `external_id` of `system`, or None."""

    def linked_id(self, object: str, canonical_id: str, system: str) -> str | None:
        """The id `system` has for the canonical record `canonical_id`, or None (the
        crosswalk read the other way)."""

    def deliver(self, step: CompiledStep, request: DeliveryRequest) -> DeliveryResult | _Pending:
        """Write through the ledger; PENDING when queued for a worker. Raise EffectError on failure."""

    def approve(self, step: CompiledStep, request: ApprovalRequest) -> ApprovalDecision | _Pending:
        """Open (or find) the approval task; PENDING until decided."""

    def batch(self, step: CompiledStep, group_key: str, record: dict[str, Any]) -> _Pending | dict[str, Any]:
        """Add the record to the open batch of `group_key` and answer PENDING; or flush at once
        with `{"batch_id", "records"}` (what a test-run does)."""
