"""Opportunity close: winning is the unbound `WinOpportunity` action (parameters
`OpportunityClose` — the close activity, bound to its opportunity — and `Status`, no return
value), not a `statecode` write:
https://learn.microsoft.com/en-us/previous-versions/dynamicscrm-2016/developers-guide/mt607971(v=crm.8)
The sandbox refuses a PATCH that sets an opportunity's `statecode` to Won or Lost
[the refusal's code and wording are unverified]."""

from __future__ import annotations

from typing import Any

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.dynamics import VENDOR, odata
from integrations.sandboxes.dynamics.entities import DataverseError, now_iso

WON_STATE = 1
WON_STATUSES = {3}  # the default "Won" status reason of an opportunity


def refuse_state_write(set_name: str, values: dict[str, Any]) -> None:
    if set_name == "opportunities" and values.get("statecode") not in (None, 0):
        raise DataverseError(
            400,
            "0x80040203",
            "An opportunity is closed with the WinOpportunity or LoseOpportunity action, not by setting statecode.",
        )


def win_opportunity(body: Any) -> None:
    if not isinstance(body, dict):
        raise DataverseError(400, "0x80040216", "The request body must be a JSON object.")
    status, close = body.get("Status"), body.get("OpportunityClose")
    if isinstance(status, bool) or not isinstance(status, int) or status not in WON_STATUSES:
        raise DataverseError(400, "0x80040203", f"{status} is not a valid status code for state code Won.")
    if not isinstance(close, dict) or "opportunityid@odata.bind" not in close:
        raise DataverseError(
            400, "0x80040203", "OpportunityClose must bind its opportunity (opportunityid@odata.bind)."
        )
    ref = str(close["opportunityid@odata.bind"]).strip("/").rsplit("/", 1)[-1]
    set_name, key = odata.parse_key_segment(ref)
    row = store.get(VENDOR, "opportunities", key) if set_name == "opportunities" and isinstance(key, str) else None
    if row is None:
        raise DataverseError(404, "0x80040217", f"opportunity With Ids = {key} Does Not Exist")
    if row.data.get("statecode", 0) != 0:
        raise DataverseError(400, "0x80040203", "The opportunity is already closed.")
    changes: dict[str, Any] = {"statecode": WON_STATE, "statuscode": status, "modifiedon": now_iso()}
    if close.get("actualrevenue") is not None:
        changes["actualvalue"] = close["actualrevenue"]
    if close.get("actualend"):
        changes["actualclosedate"] = str(close["actualend"])[:10]
    store.update(row, changes)
