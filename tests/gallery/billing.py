"""Helpers of the time-to-billing tests and benchmark: what the flow should post for the
pages it polled (recomputed from the page events, independently of the flow), and what the
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


def expected_bills(flow_key: str) -> tuple[dict[str, float], int]:
    """({bill externalId: hours}, rejected entries) for every page event of the flow: each page
    is one run; its good entries grouped by project, consultant, month and billable flag, in
    list order, cut into pieces of at most BATCH_SIZE."""
    workers, projects = links("worker"), links("project")
    bills, rejected = {}, 0
    for event in Event.objects.filter(source=f"poll:{flow_key}").order_by("id"):
        groups = defaultdict(list)
        for entry in event.payload["records"]:
            if rejected_reason(entry, workers, projects):
                rejected += 1
                continue
            worker, project = workers[str(entry["user_id"])], projects[str(entry["workspace_id"])]
            flag = "b" if entry.get("billable") and entry["time_in_minutes"] else "n"
            groups[(project, worker, entry["date_performed"][:7], flag)].append(entry)
        for (project, worker, month, _flag), entries in groups.items():
            for start in range(0, len(entries), BATCH_SIZE):
                piece = entries[start : start + BATCH_SIZE]
                key = f"tb:{project}:{worker}:{month}:{piece[0]['id']}-{piece[-1]['id']}:{len(piece)}"
                bills[key] = round(sum(round(e["time_in_minutes"] / 60, 2) for e in piece), 2)
    return bills, rejected


def posted_bills() -> list[dict]:
    """The time bills the flow posted (externalId tb:...) as the NetSuite sandbox holds them."""
    rows = SandboxRecord.objects.filter(vendor="netsuite", object_type="timeBill", external_id__startswith="tb:")
    return [{**row.data, "hours": duration_hours(row.data["hours"])} for row in rows]
