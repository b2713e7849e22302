"""Time to billing with Dynamics 365 as the ERP: the same polled, checked and batched Kantata
time as time_to_billing.py (its steps up to the batch's identity, taken as they are), each
batch posted as one Project Operations time entry (`msdyn_timeentries`) upserted by its
alternate key `sb_externalref` = the batch's identity, so a second run, a replay or a retry
never posts it twice; then the billed status written back to each Kantata entry, as there.

The time entry: `msdyn_date` (the batch's last day), `msdyn_duration` (minutes, the batch's
hours), `msdyn_type` Work, `msdyn_description` (entries, month, billable or not, consultant)
and its project bound by the project's alternate key,
`msdyn_project@odata.bind: /msdyn_projects(sb_externalref='<canonical project id>')` — the key
lead-to-project-dynamics gives the projects it creates. Not done: the consultant as the
entry's bookable resource (`msdyn_bookableresource`): no crosswalk from worker to resource yet,
so the consultant is named in the description."""

import copy

from integrations.gallery.flows import time_to_billing as netsuite_flow
from integrations.gallery.flows.lead_to_project_dynamics import odata_key

# msdyn_timeentry msdyn_type: Work (the value the Dataverse sandbox's seeded entries carry).
WORK = 192350000
REPLACED = ("bill", "post", "billed")


def time_entry_steps() -> list[dict]:
    """The batch → one msdyn_timeentry, then the billed status back to each Kantata entry."""
    billed = copy.deepcopy(next(s for s in netsuite_flow.DEFINITION["steps"] if s["id"] == "billed"))
    billed["payload"]["external_message"] = "billed on Dynamics time entry {{ steps.entries.bill_id }}"
    return [
        {"id": "bill", "type": "map", "name": "Batch → Project Operations time entry", "fields": [
            {"to": "sb_externalref", "template": "{{ record.bill_id }}"},
            {"to": "msdyn_date", "template": "{{ record.records | map(attribute='period_end') | max }}T00:00:00Z"},
            {"to": "msdyn_duration", "type": "integer",
             "template": "{{ (record.records | sum(attribute='total_hours') * 60) | round | int }}"},
            {"to": "msdyn_type", "constant": WORK},
            {"to": "msdyn_description", "template":
                "{{ record.count }} Kantata entries, {{ record.records[0].period_start[:7] }}, "
                "{{ 'billable' if record.records[0].billable_hours > 0 else 'non-billable' }}, "
                "consultant {{ record.records[0].worker_id }}"},
            {"to": "msdyn_project.bind",
             "template": "/msdyn_projects(sb_externalref='" + odata_key("record.records[0].project_id") + "')"}]},
        {"id": "post", "type": "deliver", "name": "Project Operations time entry", "connection": "dynamics",
         "object": "msdyn_timeentries", "action": "upsert", "external_id_field": "sb_externalref",
         "key": "dyn-{{ record.sb_externalref }}", "external_id": "{{ record.sb_externalref }}"},
        billed,
    ]  # fmt: skip


def definition() -> dict:
    flow = copy.deepcopy(netsuite_flow.DEFINITION)
    flow["description"] = (
        "Approved Kantata time is checked (assignment, hours per day, project open, rate), batched per project, "
        "consultant and month, and posted to Dynamics 365 as Project Operations time entries exactly once; each "
        "billed entry is then marked billed in Kantata; a rejected entry becomes an exception with its reason."
    )
    flow["steps"] = [s for s in flow["steps"] if s["id"] not in REPLACED] + time_entry_steps()
    return flow


DEFINITION = definition()
