"""Helpers of the time-to-billing tests and benchmark: what the flow should post for the
entries it polled (recomputed from the page events, independently of the flow), and what the
NetSuite sandbox holds."""

from collections import defaultdict

from integrations.crosswalk.models import CrosswalkLink
from integrations.events.models import Event
from integrations.gallery.flows.time_to_billing import BATCH_SIZE, MAX_HOURS_PER_DAY
from integrations.sandboxes.models import SandboxRecord
from integrations.sandboxes.netsuite.records import duration_hours


def links(object: str) -> dict[str, str]:
    return dict(
        CrosswalkLink.objects.filter(object=object, system="kantata").values_list("external_id", "canonical_id")
    )


def rejected_reason(entry: dict, workers: dict, projects: dict) -> str | None:
    if str(entry.get("user_id")) not in workers or str(entry.get("workspace_id")) not in projects:
        return "crosswalk"
    if not entry.get("approved"):
        return "time entry is not approved yet"
    if entry["time_in_minutes"] / 60 > MAX_HOURS_PER_DAY:
        return f"more than {MAX_HOURS_PER_DAY} hours on one day"
    if not entry.get("rate_in_cents"):
        return "no bill rate for this entry"
    return None


def expected_groups(flow_key: str) -> tuple[dict[tuple, dict], int]:
    """({(project, worker, month, billable flag): {"entries", "hours", "bills"}}, rejected
    entries) for every entry the flow's page events carried, each entry once however many
    pages carried it: the flow gathers a group across pages and polls and posts it in bills of
    at most BATCH_SIZE entries, so a group of n entries makes ceil(n / BATCH_SIZE) bills."""
    workers, projects = links("worker"), links("project")
    entries: dict[str, dict] = {}
    for event in Event.objects.filter(source=f"poll:{flow_key}").order_by("id"):
        for entry in event.payload["records"]:
            entries.setdefault(str(entry["id"]), entry)
    groups: dict[tuple, dict] = defaultdict(lambda: {"entries": 0, "hours": 0.0, "bills": 0})
    rejected = 0
    for entry in entries.values():
        if rejected_reason(entry, workers, projects):
            rejected += 1
            continue
        worker, project = workers[str(entry["user_id"])], projects[str(entry["workspace_id"])]
        flag = "b" if entry.get("billable") and entry["time_in_minutes"] else "n"
        group = groups[(project, worker, entry["date_performed"][:7], flag)]
        group["entries"] += 1
        group["hours"] += round(entry["time_in_minutes"] / 60, 2)
    for group in groups.values():
        group["bills"] = -(-group["entries"] // BATCH_SIZE)
    return dict(groups), rejected


def posted_groups(bills: list[dict]) -> dict[tuple, dict]:
    """The posted bills summed per group, as expected_groups counts them: the group from the
    bill's externalId (tb:<project>:<worker>:<month>:<first>-<last>:<count>) and isBillable."""
    groups: dict[tuple, dict] = defaultdict(lambda: {"entries": 0, "hours": 0.0, "bills": 0})
    for bill in bills:
        _, project, worker, month, _, count = bill["externalId"].split(":")
        flag = "b" if bill["isBillable"] in (True, "true", "True") else "n"
        group = groups[(project, worker, month, flag)]
        group["entries"] += int(count)
        group["hours"] += bill["hours"]
        group["bills"] += 1
    return dict(groups)


def posted_bills() -> list[dict]:
    """The time bills the flow posted (externalId tb:...) as the NetSuite sandbox holds them."""
    rows = SandboxRecord.objects.filter(vendor="netsuite", object_type="timeBill", external_id__startswith="tb:")
    return [{**row.data, "hours": duration_hours(row.data["hours"])} for row in rows]
