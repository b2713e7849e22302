"""Effects for a test-run: nothing is written anywhere.

Deliveries are simulated and labelled (`simulated=True`, remote id `dry-run:<key>`),
approvals are noted as "would wait for approval" and the run continues as if approved,
a batch flushes at once with just this record, and lookups and crosswalk reads go through
the callables given (the runtime passes read-only ones) or are reported as not performed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .effects import ApprovalDecision, ApprovalRequest, DeliveryRequest, DeliveryResult

LookupFn = Callable[[Any, dict[str, Any]], dict[str, Any] | None]
CrosswalkFn = Callable[[str, str, str], str | None]


class DryRunEffects:
    def __init__(
        self,
        lookup: LookupFn | None = None,
        crosswalk: CrosswalkFn | None = None,
        linked_id: CrosswalkFn | None = None,
    ):
        self._lookup = lookup
        self._crosswalk = crosswalk
        self._linked_id = linked_id  # (object, canonical id, system) -> the system's id or None
        self.performs_lookups = lookup is not None
        self.deliveries: list[DeliveryRequest] = []  # what would have been written, in order
        self.approvals: list[ApprovalRequest] = []

    def lookup(self, step: Any, request: dict[str, Any]) -> dict[str, Any] | None:
        return self._lookup(step, request) if self._lookup else None

    def crosswalk(self, object: str, system: str, external_id: str) -> str | None:
        if self._crosswalk is not None:
            return self._crosswalk(object, system, external_id)
        return f"dry-run:{object}:{system}:{external_id}"

    def linked_id(self, object: str, canonical_id: str, system: str) -> str | None:
        if self._linked_id is not None:
            return self._linked_id(object, canonical_id, system)
        return f"dry-run:{object}:{canonical_id}:{system}"

    def deliver(self, step: Any, request: DeliveryRequest) -> DeliveryResult:
        self.deliveries.append(request)
        return DeliveryResult("succeeded", f"dry-run:{request.key}", "simulated: nothing was sent", simulated=True)

    def approve(self, step: Any, request: ApprovalRequest) -> ApprovalDecision:
        self.approvals.append(request)
        return ApprovalDecision("approved", "dry-run", "would wait for approval")

    def batch(self, step: Any, group_key: str, record: dict[str, Any]) -> dict[str, Any]:
        return {"batch_id": "dry-run", "records": [record]}
