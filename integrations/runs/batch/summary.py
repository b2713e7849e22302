"""Step records of a batch flow: one StepRun per step per chunk (or per group phase) with
counts, total duration and the first few errors — never one row per record per step."""

from django.utils import timezone

from integrations.flows.outcome_json import jsonable
from integrations.runs.models import StepRun

FIRST_ERRORS = 5


class StepTally:
    def __init__(self):
        self.steps: dict[str, dict] = {}  # step id -> counts, in first-seen order

    def add(self, position: int, results) -> None:
        for result in results:
            row = self.steps.get(result.step_id)
            if row is None:
                row = self.steps[result.step_id] = {
                    "type": result.type,
                    "in": 0,
                    "out": 0,
                    "failed": 0,
                    "skipped": 0,
                    "duration_ms": 0.0,
                    "errors": [],
                }
            if result.status == "skipped":
                row["skipped"] += 1
                continue
            row["in"] += 1
            row["duration_ms"] += result.duration_ms or 0.0
            if result.status == "failed":
                row["failed"] += 1
                if len(row["errors"]) < FIRST_ERRORS:
                    row["errors"].append({"record": position, "message": result.error, **_fields(result)})
            else:  # succeeded, or waiting at the batch step (filed under its group)
                row["out"] += 1

    def rows(self, run, *, attempt: int, scope: dict) -> list[StepRun]:
        now = timezone.now()
        out = []
        for step_id, row in self.steps.items():
            counts = {k: row[k] for k in ("in", "out", "failed", "skipped")}
            failed_all = row["failed"] and not row["out"]
            out.append(
                StepRun(
                    run=run,
                    step_id=step_id,
                    type=row["type"],
                    status="failed" if failed_all else ("skipped" if not row["in"] else "succeeded"),
                    input=None,
                    output=counts,
                    error={"message": row["errors"][0]["message"]} if row["errors"] else None,
                    detail=jsonable({**scope, **counts, "errors": row["errors"]}),
                    duration_ms=row["duration_ms"],
                    attempt=attempt,
                    started_at=now,
                )
            )
        return out


def _fields(result) -> dict:
    details = (result.detail or {}).get("details") or []
    return {"details": details[:3]} if details else {}
