"""Run one reconciliation job: read every system page by page, then compare.

    run_job("workers")                       → ReconciliationRun (done or failed)
    run_job("hours", systems={"erp": "netsuite_emea"}, started_by="ana")

Memory holds one page of records (plus, for hours, one running total per project and
month); everything else is in the database (`Entry` rows, deleted when the run ends)."""

from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db import transaction
from django.utils import timezone

from integrations.audit import services as audit
from integrations.connections.models import Connection
from integrations.connectors.errors import ConnectorError
from integrations.connectors.registry import get_connector
from integrations.crosswalk.models import CrosswalkLink
from integrations.crosswalk.systems import role_of
from integrations.reconcile.compare import classify
from integrations.reconcile.models import Entry, Job, ReconciliationRun, Result, ResultState, RunStatus
from integrations.reconcile.sides import SIDES, Row, Side

PAGE = 200


class JobInvalid(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def connections_for(job: str, systems: dict[str, str] | None = None) -> dict[str, Connection]:
    """role → the connection compared for it: the one named in `systems`, else the first
    (by name) whose vendor this job can read. A role without one is left out."""
    if job not in SIDES:
        raise JobInvalid("job", f"'{job}' is not a reconciliation job; choose one of {', '.join(Job.values)}")
    chosen = {}
    for role, kinds in SIDES[job].items():
        named = (systems or {}).get(role)
        query = Connection.objects.filter(kind__in=list(kinds)).order_by("name")
        connection = query.filter(name=named).first() if named else query.first()
        if named and connection is None:
            raise JobInvalid(role, f"'{named}' is not a connection this job can read as the {role.upper()}")
        if connection is not None:
            chosen[str(role)] = connection
    return chosen


def run_job(job: str, *, systems: dict[str, str] | None = None, actor="system:schedule", page=PAGE):
    """`actor`: the user who asked, or a label such as 'system:schedule'."""
    connections = connections_for(job, systems)
    started_by = actor if isinstance(actor, str) else actor.get_username()
    run = ReconciliationRun.objects.create(
        job=job, systems={role: c.name for role, c in connections.items()}, started_by=started_by
    )
    audit.record(actor, "reconciliation.start", run, after={"job": job, "systems": run.systems})
    try:
        if len(connections) < 2:
            raise JobInvalid("systems", "a reconciliation needs at least two connected systems")
        for role, connection in connections.items():
            run.records[connection.name] = read_side(run, job, role, connection, page)
        classify(run)
        run.status = RunStatus.DONE
    except (ConnectorError, JobInvalid) as exc:
        run.status, run.error = RunStatus.FAILED, str(exc)[:2000]
    finally:
        run.finished_at = timezone.now()
        run.save()
        Entry.objects.filter(run=run).delete()
    counts = {"matched": run.matched, "missing": run.missing, "mismatched": run.mismatched}
    audit.record(actor, "reconciliation.finish", run, after={"status": run.status, **counts})
    return run


def read_side(run: ReconciliationRun, job: str, role: str, connection: Connection, page: int) -> int:
    side = SIDES[job][role][connection.kind]
    connector = get_connector(connection)
    records = connector.iterate(side.object, page_size=page)
    if job == Job.HOURS:
        return _read_hours(run, connection, side, records, page)
    count = 0
    for chunk in pages(records, page):
        rows = [row for row in map(side.extract, chunk) if row is not None]
        keys = _keys(job, connection.name, [r.external_id for r in rows if not r.key])
        Entry.objects.bulk_create(
            Entry(run=run, key=row.key or keys[row.external_id], system=connection.name,
                  external_id=row.external_id[:255], label=row.label[:255], values=row.values)
            for row in rows
        )  # fmt: skip
        count += len(chunk)
    return count


def _read_hours(run, connection, side: Side, records: Iterable[dict], page: int) -> int:
    totals: dict[str, float] = defaultdict(float)  # one per project and month, never per entry
    projects: dict[str, str] = {}  # the system's project id → key, looked up once each
    count = 0
    for chunk in pages(records, page):
        rows: list[Row] = [row for row in map(side.extract, chunk) if row is not None]
        unknown = {r.project_ref for r in rows} - projects.keys()
        projects.update(_keys("projects", connection.name, list(unknown)))
        for row in rows:
            totals[f"{projects[row.project_ref]}|{row.month}"] += row.values["hours"]
        count += len(chunk)
    Entry.objects.bulk_create(
        (Entry(run=run, key=key[:200], system=connection.name, label=key, values={"hours": round(hours, 2)})
         for key, hours in totals.items()),
        batch_size=1000,
    )  # fmt: skip
    return count


def _keys(job: str, system: str, ids: list[str]) -> dict[str, str]:
    """external id → canonical id through the crosswalk; an id not linked keys as itself,
    marked, so it shows as present in this system only."""
    object = "project" if job in ("projects", "hours") else "worker"
    linked = dict(
        CrosswalkLink.objects.filter(object=object, system=system, external_id__in=ids).values_list(
            "external_id", "canonical_id"
        )
    )
    return {i: linked.get(i) or f"unlinked:{system}:{i}" for i in ids}


def pages(records: Iterable[dict], size: int) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@transaction.atomic
def resolve_result(result, user, reason: str):
    """A person says what was done about a result that needed one (audited)."""
    if not (reason or "").strip():
        raise JobInvalid("reason", "say what was done about it")
    result = Result.objects.select_for_update().get(pk=result.pk)
    if result.state != ResultState.OPEN:
        raise JobInvalid("state", "this result is already resolved")
    result.state, result.resolved_by, result.resolved_at = ResultState.RESOLVED, user, timezone.now()
    result.resolution_reason = reason.strip()
    result.save()
    audit.record(user, "reconciliation.resolve", result, message=reason.strip()[:500])
    return result


def role_label(connection: Connection) -> str:
    return role_of(connection.kind).upper()
