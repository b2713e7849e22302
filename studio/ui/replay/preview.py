"""The dry run in words: per event, what the live version would write and how it compares
with what the ledger already holds (integrations/runs/preview.py does the work)."""

import json
from dataclasses import dataclass, field

from integrations.runs.preview import preview_replay


@dataclass
class Verdict:
    key: str
    connection: str
    object: str
    kind: str  # "new", "same", "changed", "pending"
    text: str
    payload: str = ""  # what the live version would send, as compact JSON (cut for the page)
    changes: list = field(default_factory=list)  # [(field, before, after)]


@dataclass
class Row:
    event: int
    flow: str
    version: int | None
    status: str
    error: str | None
    deliveries: list[Verdict]


@dataclass
class Summary:
    rows: list[Row]
    new: int = 0
    same: int = 0
    changed: int = 0
    pending: int = 0


def dry_run(events, flow=None) -> Summary:
    rows = []
    for found in preview_replay(events, flow=flow):
        verdicts = [verdict(d) for d in found["deliveries"]]
        rows.append(Row(found["event"], found["flow"], found["version"], found["status"], found["error"], verdicts))
    summary = Summary(rows)
    for row in rows:
        for v in row.deliveries:
            setattr(summary, v.kind, getattr(summary, v.kind) + 1)
    return summary


def shown(payload, most: int = 600) -> str:
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= most else text[: most - 1] + "…"


def verdict(delivery: dict) -> Verdict:
    base = {
        "key": delivery["key"],
        "connection": delivery["connection"],
        "object": delivery["object"],
        "payload": shown(delivery["payload"]),
    }
    if delivery["would_post"]:
        return Verdict(**base, kind="new", text="Would post: the ledger has no delivery with this key.")
    if delivery["ledger"] != "SUCCEEDED":
        text = f"In the ledger as {delivery['ledger']}: the ledger sends or retries it, the replay adds nothing."
        return Verdict(**base, kind="pending", text=text)
    changes = [(name, old, new) for name, (old, new) in delivery["changes"].items()]
    if not changes:
        return Verdict(**base, kind="same", text="Already posted, unchanged: not posted again.")
    text = "Already posted; the live version would write this differently. Not posted again under the same key."
    return Verdict(**base, kind="changed", text=text, changes=changes)
