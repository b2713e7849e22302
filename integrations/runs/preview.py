"""Replay preview (replay by business key, dry run first): what a replay through the current published version
would write, next to what the ledger already holds for the same keys — before anything is.

Each event runs through the engine in dry run (lookups and crosswalk read for real, writes
and approvals simulated). Every delivery it would request is compared with the ledger row
of its idempotency key: absent → would post; done → would not post again (with the diff
between what was posted and what the new version would send); pending/dead → the ledger
decides when it is retried."""

from integrations.audit.services import diff
from integrations.crosswalk.services import canonical_id, external_id
from integrations.deliveries.models import Delivery
from integrations.flows import engine_api
from integrations.flows.engine_api import PENDING, DryRunEffects, is_batch_flow, records_of
from integrations.flows.services import matching_versions
from integrations.runs.effects import RuntimeEffects

PREVIEW_LIMIT = 200


def preview_replay(events, *, flow=None) -> list[dict]:
    reads = RuntimeEffects(run=None)
    rows = []
    for event in list(events[:PREVIEW_LIMIT]):
        versions = [flow.live_version] if flow else matching_versions(event.source, event.type)
        for version in versions:
            if is_batch_flow(version.definition):
                effects = PageEffects(lookup=reads.lookup, crosswalk=canonical_id, linked_id=external_id)
                status, error, extra = dry_run_page(version, event.payload, effects)
            else:
                effects = engine_api.dry_run_effects(lookup=reads.lookup, crosswalk=canonical_id, linked_id=external_id)
                outcome = engine_api.run(engine_api.plan_for(version), event.payload, effects, dry_run=True)
                status, error, extra = outcome.status, outcome.error.message if outcome.error else None, {}
            rows.append({
                "event": event.pk, "flow": version.flow.key, "version": version.number, "status": status,
                "error": error, **extra, "deliveries": [compare(request) for request in effects.deliveries],
            })  # fmt: skip
    return rows


class PageEffects(DryRunEffects):
    """Dry-run effects for a batch flow's records: a `batch` step holds the record, as a
    chunk does, so the preview can group the page before the steps after it."""

    def batch(self, step, group_key: str, record: dict):
        return PENDING


def dry_run_page(version, payload, effects: PageEffects) -> tuple[str, str | None, dict]:
    """A batch flow's page as its run would go: every record up to the batch step, then the
    steps after it once per group of at most `size` records — so the preview shows the same
    group postings the run would request, not one per record."""
    plan = engine_api.plan_for(version)
    try:
        records = records_of(version.definition, payload)
    except ValueError as exc:
        return "failed", str(exc), {"records": 0}
    groups: dict[str, list] = {}
    failed = 0
    for record in records:
        outcome = engine_api.run(plan, record, effects, dry_run=True)
        if outcome.status == "suspended" and outcome.suspend_reason == "batch":
            groups.setdefault(outcome.state["steps"][outcome.suspended_at]["group_key"], []).append(outcome.record)
        elif outcome.status == "failed":
            failed += 1
    step = next((s for s in plan.steps if s.type == "batch"), None)
    for key, grouped in groups.items():
        for start in range(0, len(grouped), step.spec.size):
            group = {"group_key": key, "batch_id": "preview", "records": grouped[start : start + step.spec.size]}
            resume = {"step_id": step.id, "outcome": group}
            outcome = engine_api.run(plan, {}, effects, start_at=step.id, resume=resume, dry_run=True)
            failed += outcome.status == "failed"
    error = f"{failed} of the page's records or groups would fail" if failed else None
    return ("failed" if failed else "completed"), error, {"records": len(records), "groups": len(groups)}


def compare(request) -> dict:
    row = Delivery.objects.filter(idempotency_key=request.key).first()
    verdict = {
        "key": request.key,
        "connection": request.connection,
        "object": request.object,
        "payload": request.payload,
    }
    if row is None:
        return {**verdict, "ledger": None, "would_post": True, "changes": {}}
    return {
        **verdict,
        "ledger": row.state,
        "would_post": False,
        "changes": diff(row.payload, request.payload),
    }
