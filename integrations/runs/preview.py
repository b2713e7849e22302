"""Replay preview (DESIGN "beyond" 8): what a replay through the current published version
would write, next to what the ledger already holds for the same keys — before anything is.

Each event runs through the engine in dry run (lookups and crosswalk read for real, writes
and approvals simulated). Every delivery it would request is compared with the ledger row
of its idempotency key: absent → would post; done → would not post again (with the diff
between what was posted and what the new version would send); pending/dead → the ledger
decides when it is retried."""

from integrations.audit.services import diff
from integrations.crosswalk.services import canonical_id
from integrations.flows import engine_api
from integrations.runs.effects import RuntimeEffects

PREVIEW_LIMIT = 200


def preview_replay(events, *, flow=None) -> list[dict]:
    from integrations.flows.services import matching_versions

    reads = RuntimeEffects(run=None)
    rows = []
    for event in list(events[:PREVIEW_LIMIT]):
        versions = [flow.live_version] if flow else matching_versions(event.source, event.type)
        for version in versions:
            effects = engine_api.dry_run_effects(lookup=reads.lookup, crosswalk=canonical_id)
            outcome = engine_api.run(engine_api.plan_for(version), event.payload, effects, dry_run=True)
            rows.append({
                "event": event.pk, "flow": version.flow.key, "version": version.number, "status": outcome.status,
                "error": outcome.error.message if outcome.error else None,
                "deliveries": [compare(request) for request in effects.deliveries],
            })  # fmt: skip
    return rows


def compare(request) -> dict:
    from integrations.deliveries.models import Delivery

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
