"""Test-run: every step computed on a sample record, deliveries and approvals simulated
and labelled by the engine's DryRunEffects; nothing is written."""

from integrations.crosswalk.services import canonical_id
from integrations.flows import engine_api
from integrations.flows.outcome_json import outcome_dict
from integrations.flows.services import DraftInvalid, draft_of


def version_for(flow, version: str):
    if version in ("draft", "", None):
        return draft_of(flow)
    found = flow.versions.filter(state="published", number=int(version) if str(version).isdigit() else -1).first()
    if found is None:
        raise LookupError(f"no published version '{version}'; use 'draft' or a version number")
    return found


def test_run(flow, user, record: dict, *, version: str = "draft") -> dict:
    target = version_for(flow, version)
    try:
        plan = engine_api.compile_flow(target.definition)
    except engine_api.DefinitionInvalid as exc:
        raise DraftInvalid(engine_api.errors_as_dicts(exc.errors)) from exc
    page = _page_of(target.definition, record)
    sample = page[0] if page else record  # a batch flow's page: its first record is shown
    outcome = engine_api.run(plan, sample, engine_api.dry_run_effects(crosswalk=canonical_id), dry_run=True)
    extra = {"for_each": {"records": len(page), "shown": 0}} if page else {}
    return {"version": target.number or "draft", **outcome_dict(outcome), **extra}


def _page_of(definition, record) -> list:
    """The records of a batch flow's sample page; [] when the sample is one record."""
    if not engine_api.is_batch_flow(definition):
        return []
    try:
        return engine_api.records_of(definition, record) or []
    except ValueError:
        return []


test_run.__test__ = False  # not a pytest test despite the name
