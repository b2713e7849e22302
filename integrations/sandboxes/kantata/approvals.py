"""Time approval in the Kantata sandbox. Kantata approves time through timesheet
submissions (a consultant submits a week, an approver approves it); `approved` on a time
entry is read only, and the index filter `approved` returns the entries on approved
timesheets or in projects that need no approval, whatever value it is given
(https://developer.kantata.com/kantata/specification/time-entries/get-time-entries).
The sandbox has no timesheet submissions yet: `approve` stands for the approver's act."""

from __future__ import annotations

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.kantata import VENDOR
from integrations.sandboxes.kantata.records import now_iso


def approve(entry_ids: list[str]) -> int:
    """Mark these time entries approved (as an approved timesheet does); returns how many."""
    count = 0
    for row in store.records(VENDOR, "time_entries").filter(record_id__in=[str(i) for i in entry_ids]):
        store.update(row, {"approved": True, "updated_at": now_iso()})
        count += 1
    return count
