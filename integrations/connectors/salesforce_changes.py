"""How a Salesforce change becomes an event, without any add-on in the org.

Polling: `SELECT … FROM <SObject> WHERE SystemModstamp >= <watermark - OVERLAP>` ordered by
SystemModstamp. SystemModstamp is the indexed system timestamp set on every change, by a
user or by automation (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/system_fields.htm).
A record is stamped when its transaction starts work, not when it commits, so a change
committed late can carry a stamp older than one already read [unverified: the size of that
delay]: the window reaches OVERLAP seconds back and the event ids deduplicate what the
overlap reads again.

Classification follows the Change Data Capture header, so the same rules serve a future
Pub/Sub subscriber: changeType is CREATE, UPDATE, DELETE, UNDELETE or a GAP_ variant, and
`changedFields` lists the changed fields of an UPDATE only — it is empty for a CREATE,
whose body carries every non-null field
(https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_event_fields_header.htm,
https://developer.salesforce.com/docs/platform/apex-ref/references/apex-ref/apex-class-eventbus-changeeventheader.html).
An opportunity is won when it is created Closed Won or an update changed StageName to
Closed Won: the event `opportunity.won`, one per opportunity (its id is the dedupe key).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

WON_STAGE = "Closed Won"
OVERLAP_SECONDS = 120


@dataclass(frozen=True)
class Change:
    type: str  # e.g. "opportunity.won", "account.update"
    key: str  # the dedupe id: the same change read twice has the same key
    payload: dict[str, Any]


@dataclass
class ChangeBatch:
    changes: list[Change] = field(default_factory=list)
    watermark: str | None = None


def classify(header: dict[str, Any], fields: dict[str, Any]) -> str:
    """The event type of one change, read as the CDC header describes it."""
    entity = str(header.get("entityName") or "record").lower()
    change = str(header.get("changeType") or "").upper()
    if change.startswith("GAP_"):
        return f"{entity}.gap"  # no field values: the subscriber must read the record
    staged = change == "CREATE" or (change == "UPDATE" and "StageName" in (header.get("changedFields") or []))
    if entity == "opportunity" and fields.get("StageName") == WON_STAGE and staged:
        return "opportunity.won"
    return f"{entity}.{change.lower() or 'change'}"


def window_start(watermark: str, parse: Callable[[str], datetime]) -> datetime:
    """Where the next poll starts reading: the watermark less the overlap."""
    return parse(watermark) - timedelta(seconds=OVERLAP_SECONDS)


def polled_change(sobject: str, record: dict[str, Any]) -> Change:
    """A polled record as a change: CREATE while it was never modified after creation."""
    fields = {k: v for k, v in record.items() if k != "attributes"}
    created = bool(fields.get("CreatedDate")) and fields.get("CreatedDate") == fields.get("LastModifiedDate")
    header = {"entityName": sobject, "changeType": "CREATE" if created else "UPDATE",
              "recordIds": [fields.get("Id")], "changedFields": [] if created else ["StageName"]}  # fmt: skip
    # A poll does not know which fields changed; an opportunity seen Closed Won is won once
    # (keyed by its id), any other change once per SystemModstamp.
    kind = classify(header, fields)
    stamp = fields.get("SystemModstamp")
    key = f"won:{fields.get('Id')}" if kind == "opportunity.won" else f"{fields.get('Id')}@{stamp}"
    return Change(kind, key, {**fields, "ChangeEventHeader": {k: header[k] for k in ("entityName", "changeType")}})
