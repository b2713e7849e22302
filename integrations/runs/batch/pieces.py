"""The steps after a batch flow's `batch` step, run in memory once per piece (a group of at
most `size` records), whether the piece was cut at the end of one run or gathered across runs."""

import hashlib

from integrations.flows import engine_api
from integrations.flows.outcome_json import error_dict
from integrations.runs.batch.records import Results


def run_pieces(plan, step, pieces) -> Results:
    """The steps after the batch step once per (label, group) piece; a failed piece is an
    exception `group:<label>` holding the piece."""
    result = Results()
    for label, group in pieces:
        outcome = engine_api.run(
            plan, {}, result.effects, start_at=step.id, resume={"step_id": step.id, "outcome": group}
        )
        result.tally.add(result.succeeded + result.skipped + len(result.failures), outcome.steps)
        if outcome.status == "completed":
            result.succeeded += 1
        elif outcome.status == "halted":
            result.skipped += 1
        else:
            error = error_dict(outcome.error) or {"kind": "internal", "message": f"stopped: {outcome.status}"}
            result.failures.append((group_item(label), {**group, "count": len(group["records"])}, error))
    return result


def group_item(label: str) -> str:
    """`group:<key>`, kept within the exception's 64-character `item` (long keys hashed)."""
    item = f"group:{label}"
    if len(item) <= 64:
        return item
    return f"group:{label[:40]}~{hashlib.sha256(label.encode()).hexdigest()[:16]}"
