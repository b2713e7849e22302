"""Groups of a batch flow that stay open across runs: a `batch` step with an `item_key`.

Time to billing polls a page per run; grouping per run made one bill per group per page. With
an `item_key` each run files its records in the flow's open BatchGroup of their group key,
and a group is flushed once it holds `size` records (by the run that filled it, inside that
run's fenced transaction) or once it is `max_wait_seconds` old (`flush_due`, periodic, by a
run made for the flush) or, for a poll-triggered flow, once its poll has read its last page and
every page run has filed its records (`flush_due` too). Exactly once:
- a record is filed once per flow and step (GroupedRecord unique on its item key, inserted
  ON CONFLICT DO NOTHING): a second poll, a replay or a re-executed finish files nothing new;
- a group is flushed once: under its row lock, open → done in the same transaction that
  requests its deliveries (keys unique in the ledger), so a worker killed before the commit
  leaves the group open, and one killed after it leaves nothing to redo.
Open groups are locked in group-key order, so two runs filing into the same groups never
deadlock."""

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import OperationalError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from integrations.flows import engine_api
from integrations.flows.models import Watermark
from integrations.runs.batch.completion import finish_if_delivered
from integrations.runs.batch.pieces import run_pieces
from integrations.runs.batch.records import batch_step_of, write_results
from integrations.runs.choices import BatchStatus, RunStatus, Trigger
from integrations.runs.models import BatchGroup, GroupedRecord, Run

KEY_LENGTH = 200  # GroupedRecord.item_key / BatchGroup.group_key
FLUSH_LIMIT = 500  # due groups per periodic pass
FLUSH_RECORDS = 10_000  # records per flush run, so a worker's memory does not follow the backlog
FILING = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.WAITING_CHUNKS)  # a page run not done filing


@dataclass
class Filing:
    pieces: list = field(default_factory=list)  # (label, group) full groups, to run now
    filed: int = 0
    already_filed: int = 0


def stored_key(key: str) -> str:
    """A key within the column; a longer one is cut and suffixed with its hash (still unique)."""
    if len(key) <= KEY_LENGTH:
        return key
    return f"{key[: KEY_LENGTH - 17]}~{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def file_records(run: Run, step, merged: dict) -> Filing:
    """Inside the finishing run's transaction: file `merged` ({group key: records}) in the
    open groups; every group that reaches `size` is flushed and returned as a piece. A page
    touches a hundred groups or more: the groups are opened, locked, filled and counted with a
    few statements for all of them, not per group."""
    filing = Filing()
    keyed: dict = {}
    for key, records in merged.items():
        keyed.setdefault(stored_key(key), {}).update(_by_item_key(step, records))
    every = [item for items in keyed.values() for item in items]
    seen = set(
        GroupedRecord.objects.filter(flow_id=run.flow_version.flow_id, step_id=step.id, item_key__in=every)
        .values_list("item_key", flat=True)
        .iterator()
    )
    todo: dict = {}
    for key, items in keyed.items():
        new = [(item, record) for item, record in items.items() if item not in seen]
        filing.already_filed += len(items) - len(new)
        if new:
            todo[key] = new
    if not todo:
        return filing
    groups = _open_groups(run, step, sorted(todo))
    taken = {key: new[: max(0, groups[key].max_size - groups[key].size)] for key, new in todo.items()}
    _insert(run, step, [(groups[key], items) for key, items in taken.items()], filing)
    for key in sorted(todo):
        if groups[key].size >= groups[key].max_size:
            filing.pieces.append(_flush(groups[key], run))
        rest = todo[key][len(taken[key]) :]
        while rest:  # more than the group had room for: it is full now; the rest opens the next
            group = _open_groups(run, step, [key])[key]
            now, rest = rest[: group.max_size - group.size], rest[group.max_size - group.size :]
            _insert(run, step, [(group, now)], filing)
            if group.size >= group.max_size:
                filing.pieces.append(_flush(group, run))
    return filing


def _insert(run: Run, step, batches: list, filing: Filing) -> None:
    """File (group, [(item key, record)]) batches in one INSERT, then count the groups again in
    one query: a record filed meanwhile by another run (ON CONFLICT DO NOTHING) is not counted."""
    flow_id = run.flow_version.flow_id
    GroupedRecord.objects.bulk_create(
        [
            GroupedRecord(flow_id=flow_id, step_id=step.id, item_key=i, group=group, run=run, record=r)
            for group, items in batches
            for i, r in items
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    groups = {group.pk: group for group, _ in batches}
    counts = dict(
        GroupedRecord.objects.filter(group_id__in=list(groups))
        .values("group_id")
        .annotate(n=Count("pk"))
        .values_list("group_id", "n")
    )
    for group, items in batches:
        size = counts.get(group.pk, 0)
        filing.filed += size - group.size
        filing.already_filed += len(items) - (size - group.size)
        group.size = size
    BatchGroup.objects.bulk_update(list(groups.values()), ["size"], batch_size=500)


def _by_item_key(step, records: list) -> dict:
    """{item key: record}, the first of a key kept (a page holding an entry twice files it once)."""
    out: dict = {}
    for record in records:
        out.setdefault(stored_key(step.spec.key_of(record)), record)
    return out


def _open_groups(run: Run, step, keys: list) -> dict:
    """{key: the open group of key}, each locked until the transaction ends (in key order, so
    two runs filing into the same groups do not deadlock); those missing are opened. A group
    flushed at its max wait while this run waited for its lock is opened again."""
    mine = BatchGroup.objects.filter(flow_version=run.flow_version, step_id=step.id, status=BatchStatus.OPEN)
    found: dict = {}
    for _ in range(3):
        wanted = [key for key in keys if key not in found]
        missing = set(wanted) - set(mine.filter(group_key__in=wanted).values_list("group_key", flat=True))
        if missing:
            flush_at = timezone.now() + timedelta(seconds=step.spec.max_wait_seconds)
            BatchGroup.objects.bulk_create(
                [
                    BatchGroup(
                        flow_version=run.flow_version,
                        step_id=step.id,
                        group_key=key,
                        max_size=step.spec.size,
                        flush_at=flush_at,
                    )
                    for key in sorted(missing)
                ],
                ignore_conflicts=True,  # opened meanwhile by a concurrent run: locked below
            )
        locked = mine.filter(group_key__in=wanted).order_by("group_key").select_for_update()
        found.update((group.group_key, group) for group in locked)
        if len(found) == len(keys):
            return found
    # Not the records' fault: the run is given back and finished again (leases.DATABASE_ERRORS).
    raise OperationalError("the batch groups of this run kept being flushed while it filed its records")


def _flush(group: BatchGroup, run: Run) -> tuple:
    """Mark the locked group flushed by `run`; the piece its records make, in filing order."""
    return _flush_all([group], run)[0]


def _flush_all(groups: list, run: Run) -> list:
    """Mark the locked groups flushed by `run` (one UPDATE); their pieces, their records read in
    one query, each group's in filing order."""
    ids = [group.pk for group in groups]
    BatchGroup.objects.filter(pk__in=ids, status=BatchStatus.OPEN).update(
        status=BatchStatus.DONE, flushed_at=timezone.now(), flushed_by=run
    )
    records: dict = {pk: [] for pk in ids}
    rows = GroupedRecord.objects.filter(group_id__in=ids).order_by("group_id", "pk").values_list("group_id", "record")
    for group_id, record in rows.iterator(chunk_size=2000):
        records[group_id].append(record)
    pieces = []
    for group in groups:
        group.status = BatchStatus.DONE
        piece = {"group_key": group.group_key, "batch_id": f"group-{group.pk}", "records": records[group.pk]}
        pieces.append((group.group_key, piece))
    return pieces


def polls_read_to_the_end(flow_ids) -> set[int]:
    """The poll-triggered flows among `flow_ids` whose poll has read its last page (no
    watermark holds a paging cursor) and none of whose runs is still filing records. Their open
    groups hold everything that poll brought, so they flush now instead of at their max wait:
    the bills of a poll come right after it, grouped across all its pages. The next poll's
    records open new groups."""
    ids = set(flow_ids)
    polled = set(Watermark.objects.filter(flow_id__in=ids).values_list("flow_id", flat=True))
    mid_poll = set(Watermark.objects.filter(flow_id__in=polled).exclude(cursor="").values_list("flow_id", flat=True))
    filing = set(
        Run.objects.filter(flow_version__flow_id__in=polled, status__in=FILING).values_list(
            "flow_version__flow_id", flat=True
        )
    )
    return polled - mid_poll - filing


def flush_due(now=None) -> int:
    """Flush the groups older than their max wait, and those of polls read to the end: per
    flow version, one run made for the flush carries their pieces and deliveries. How many
    groups were flushed."""
    now = now or timezone.now()
    open_groups = BatchGroup.objects.filter(status=BatchStatus.OPEN)
    ended = polls_read_to_the_end(open_groups.values_list("flow_version__flow_id", flat=True).distinct())
    due = open_groups.filter(Q(flush_at__lte=now) | Q(flow_version__flow_id__in=ended)).order_by("flush_at", "pk")
    versions: dict = {}
    records = 0
    for pk, version_id, size in due.values_list("pk", "flow_version_id", "size")[:FLUSH_LIMIT]:
        if versions and records + size > FLUSH_RECORDS:
            break  # the rest at the next pass
        versions.setdefault(version_id, []).append(pk)
        records += size
    return sum(_flush_version(version_id, pks, now, ended) for version_id, pks in versions.items())


def _flush_version(version_id: int, pks: list, now, ended: set[int]) -> int:
    with transaction.atomic():
        groups = list(
            BatchGroup.objects.select_for_update(skip_locked=True)
            .filter(Q(flush_at__lte=now) | Q(flow_version__flow_id__in=ended), pk__in=pks, status=BatchStatus.OPEN)
            .select_related("flow_version__flow")
            .order_by("group_key")
        )
        if not groups:
            return 0
        version = groups[0].flow_version
        plan = engine_api.plan_for(version)
        step = batch_step_of(plan)
        run = Run.objects.create(
            flow_version=version,
            trigger=Trigger.SCHEDULE,
            status=RunStatus.WAITING_DELIVERY,
            chunked=True,
            input={"flushed_groups": [g.group_key for g in groups]},
            started_at=timezone.now(),
        )
        result = run_pieces(plan, step, _flush_all(groups, run))
        run.output = {
            "reason": "poll read to the end" if version.flow_id in ended else "max_wait_seconds",
            "records": sum(g.size for g in groups),
            "groups": len(groups),
            "groups_failed": len(result.failures),
        }
        Run.objects.filter(pk=run.pk).update(output=run.output)
        write_results(run, result, attempt=1, scope={"phase": "groups"})
    finish_if_delivered(run.pk)
    return len(groups)
