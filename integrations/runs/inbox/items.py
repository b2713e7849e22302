"""Retrying one record or group of a batch run: a one-record run of its own, `retry_of` the
batch run and carrying the exception's `item`, so it runs through the ordinary one-record
path (services.execute_run) and resolves or reopens that item's exception only. The inbox
(actions.retry_item) checks the input before it comes here.

- "record:<n>": the record as it was in the run's input (or as edited), from the start;
- "group:<key>": the group's records, resumed at the batch step, so the steps after it
  run once for the group."""

from integrations.flows import engine_api
from integrations.runs.choices import Trigger
from integrations.runs.models import Run
from integrations.runs.services import create_run


def batch_step_id(version) -> str:
    return next((s["id"] for s in version.definition.get("steps", []) if s.get("type") == "batch"), "")


def group_resume(step_id: str, data) -> dict:
    data = data if isinstance(data, dict) else {}
    outcome = {k: data.get(k) for k in ("group_key", "batch_id")}
    return {"step_id": step_id, "outcome": {**outcome, "records": data.get("records")}}


def retry_item(exc, user, target, data) -> Run:
    failed = exc.run
    common = {
        "trigger": Trigger.RETRY,
        "event": failed.event,
        "record": data,
        "user": user,
        "retry_of": failed,
        "business_key": failed.business_key,
        "item": exc.item,
    }
    if not exc.item.startswith("group:"):
        return create_run(target, **common)
    step_id = batch_step_id(target)
    run = create_run(target, start_at=step_id, **common)
    Run.objects.filter(pk=run.pk).update(resume=group_resume(step_id, data))
    run.resume = group_resume(step_id, data)
    return run


def dry_run(exc, edited):
    """The edited record or group, dry-run the way its retry will run it."""
    version = exc.run.flow_version
    plan = engine_api.plan_for(version)
    effects = engine_api.dry_run_effects()
    if exc.item.startswith("group:"):
        step_id = batch_step_id(version)
        resume = group_resume(step_id, edited)
        return engine_api.run(plan, edited, effects, start_at=step_id, resume=resume, dry_run=True)
    return engine_api.run(plan, edited, effects, dry_run=True)
