"""Compare what the systems said, key by key, in key order: one `Result` per key.

matched    every system has the key and the compared values agree;
missing    some system lacks it (`missing_in` names them);
mismatched every system has it and some value differs (`differences` lists each field
           with every system's value). Names compare without case and surrounding spaces,
           numbers to the cent."""

from itertools import groupby

from integrations.reconcile.models import Entry, Outcome, ReconciliationRun, Result

BATCH = 500


def comparable(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return round(float(value), 2)
    return " ".join(str(value).split()).casefold()


def differences(entries: list[Entry]) -> list[dict]:
    fields = sorted({name for e in entries for name in e.values})
    found = []
    for name in fields:
        values = {e.system: e.values.get(name) for e in entries}
        if len({repr(comparable(v)) for v in values.values()}) > 1:
            found.append({"field": name, "values": values})
    return found


def result_for(run: ReconciliationRun, key: str, entries: list[Entry]) -> Result:
    systems = list(run.systems.values())
    present = {e.system: e.external_id for e in entries}
    missing_in = [s for s in systems if s not in present]
    diffs = [] if missing_in else differences(entries)
    outcome = Outcome.MISSING if missing_in else (Outcome.MISMATCHED if diffs else Outcome.MATCHED)
    label = next((e.label for e in entries if e.label), key)
    return Result(run=run, key=key, label=label[:255], outcome=outcome, present=present, missing_in=missing_in,
                  differences=diffs)  # fmt: skip


def classify(run: ReconciliationRun) -> None:
    counts = {o: 0 for o in Outcome.values}
    batch: list[Result] = []
    rows = Entry.objects.filter(run=run).order_by("key", "system", "id").iterator(chunk_size=2000)
    for key, entries in groupby(rows, key=lambda e: e.key):
        result = result_for(run, key, list(entries))
        counts[result.outcome] += 1
        batch.append(result)
        if len(batch) >= BATCH:
            Result.objects.bulk_create(batch)
            batch = []
    Result.objects.bulk_create(batch)
    run.matched, run.missing, run.mismatched = counts["matched"], counts["missing"], counts["mismatched"]
