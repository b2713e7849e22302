"""Regional variant of lead to project: the same path, but the NetSuite customer and job go to
the EMEA subsidiary (internal id 2) for EMEA deals and to the North America parent subsidiary
(internal id 1) for the rest, chosen by a route on the canonical project's region.

It lives beside the global flow and reacts to the same event, so a firm runs one or the
other: the demo installs it published but paused."""

from integrations.gallery.flows import lead_to_project as global_flow
from integrations.gallery.flows import shared

SUBSIDIARIES = {"emea": "2", "na": "1"}


def _branches() -> list[dict]:
    steps: list[dict] = []
    for suffix, subsidiary in SUBSIDIARIES.items():
        steps += global_flow.customer_and_job(f"_{suffix}", subsidiary)
    return steps


def _route() -> dict:
    emea = [s["id"] for s in global_flow.customer_and_job("_emea")]
    na = [s["id"] for s in global_flow.customer_and_job("_na")]
    return {"id": "by_region", "type": "route", "name": "EMEA → EMEA subsidiary, else North America",
            "mode": "first-match", "rules": [{"name": "emea", "when": "steps.project.region == 'EMEA'", "to": emea}],
            "otherwise": na}  # fmt: skip


DEFINITION = {
    "description": "Lead to project with the ERP side routed by region: EMEA deals become customers and "
    "projects of the EMEA subsidiary, the others of the North America parent. Run it instead of the global "
    "flow (both react to the same event).",
    "trigger": {"type": "event", "connection": "salesforce", "event": "opportunity.won"},
    "canonical": shared.PROJECT_FROM_CRM,
    "value_maps": {**shared.REGIONS, **shared.BILLING_TYPES},
    "steps": [
        *global_flow.steps_before_erp(),
        _route(),
        *_branches(),
        *global_flow.steps_after_erp(),
    ],
}
