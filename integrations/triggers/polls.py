"""Poll triggers: query the source connection for records changed since the flow's
watermark, page by page; each record becomes one event (deduplicated by id and content) —
or, for a batch flow (`for_each`), each page becomes one event `{"records": [...]}`.

Each page's events and the watermark/cursor move in one transaction, so a crash mid-poll
resumes at the page after the last stored one, and the watermark only advances once the
events it covers are stored.

Backpressure: a poll that finds thousands of records does not queue thousands of runs at
once. Before each page it looks at the flow's backlog (backlog.py); at
SWITCHBOARD_POLL_BACKLOG unfinished runs it stops, the cursor stays stored, and
`resume_paused` (a control-lane periodic job) starts it again from there once the backlog
is below the limit, typically one page at a time. The records wait at the source, not in
the queue."""

import hashlib
import json
import logging

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from integrations.connections.models import Connection
from integrations.connectors.registry import get_connector
from integrations.events.models import Event
from integrations.events.services import ingest_event
from integrations.flows.choices import FlowStatus
from integrations.flows.engine_api import is_batch_flow
from integrations.flows.models import Flow, Watermark
from integrations.triggers.backlog import unfinished_runs
from integrations.triggers.schedules import POLL_TASK

log = logging.getLogger(__name__)

MAX_PAGES = 100  # one tick's share; the next tick carries on from the stored cursor
RESUME_KEY = "triggers:poll-resume:{flow_id}"
RESUME_GUARD_SECONDS = 120  # one resumption in the queue per flow; the poll clears it when it starts


def backlog_limit() -> int:
    return int(settings.SWITCHBOARD_POLL_BACKLOG)


class PageTaken(Exception):
    """Another poll of the same flow stored this page first (the watermark moved)."""


def record_identity(record: dict) -> str:
    """Same record, same content → same event; a changed record is a new event."""
    ident = record.get("id") or record.get("Id") or record.get("external_id") or ""
    digest = hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return f"{ident}:{digest}"


def page_identity(records) -> str:
    """Same page of the same records, same event: a re-poll after a crash stores nothing new."""
    digest = hashlib.sha256("|".join(record_identity(r) for r in records).encode()).hexdigest()[:40]
    return f"page:{digest}"


def poll(flow_id: int) -> int:
    """Store one event per changed record; returns how many new events were stored."""
    flow = Flow.objects.filter(pk=flow_id, status=FlowStatus.ACTIVE).first()
    version = flow.live_version if flow else None
    trigger = (version.definition.get("trigger") or {}) if version else {}
    if trigger.get("type") != "poll":
        return 0
    connection = Connection.objects.get(name=trigger["connection"])
    mark, _ = Watermark.objects.get_or_create(flow=flow, connection=connection, object=trigger["object"])
    cache.delete(RESUME_KEY.format(flow_id=flow.pk))
    connector = get_connector(connection)
    stored, newest = 0, ""
    for _ in range(MAX_PAGES):
        if unfinished_runs(flow.pk) >= backlog_limit():
            log.info("poll of %s paused at cursor %r: its backlog is full", flow.key, mark.cursor)
            break
        page = connector.query(
            mark.object, since=mark.position or None, cursor=mark.cursor or None, page_size=trigger.get("page_size")
        )
        newest = max(newest, page.watermark or "")
        try:
            stored += _store_page(flow, version, connection, mark, page, newest)
        except PageTaken:
            break
        if not page.next_cursor:
            break
    return stored


def resume_paused() -> list[int]:
    """Control-lane periodic job: ring once more for each poll stopped mid-way (a cursor is
    stored) whose flow's backlog has room again. Returns the flow ids rung."""
    rung = []
    paused = Watermark.objects.exclude(cursor="").filter(flow__status=FlowStatus.ACTIVE)
    for flow_id in sorted(set(paused.values_list("flow_id", flat=True))):
        if unfinished_runs(flow_id) >= backlog_limit():
            continue
        if cache.add(RESUME_KEY.format(flow_id=flow_id), 1, timeout=RESUME_GUARD_SECONDS):
            # A resumption is work under way: it goes on the interactive lane (Celery's default
            # queue), ahead of the runs its earlier pages made; in the bulk lane it would wait
            # for all of them and the flow's queue would run dry before each refill.
            current_app.send_task(POLL_TASK, args=[flow_id], queue=settings.CELERY_TASK_DEFAULT_QUEUE)
            rung.append(flow_id)
    return rung


RECENT_PAGES = 3


def unseen(flow, records) -> list:
    """A batch flow's page less the records its latest pages already carried (same id and
    content). A watermark steps back (Kantata re-reads its last second so a change committed in
    that second is not missed): one-record flows drop the re-read records by their event id,
    but a page that mixes them with new ones is a new page, and a batch flow would run them
    twice. Re-reads come at the end of the order, so the latest pages are where they were."""
    pages = Event.objects.filter(source=f"poll:{flow.key}").order_by("-id").values_list("payload", flat=True)
    seen = {record_identity(r) for payload in pages[:RECENT_PAGES] for r in (payload or {}).get("records", [])}
    fresh, taken = [], set()
    for record in records:
        identity = record_identity(record)
        if identity not in seen and identity not in taken:
            fresh.append(record)
            taken.add(identity)
    return fresh


def _store_page(flow, version, connection, mark: Watermark, page, newest: str) -> int:
    new = 0
    whole_page = is_batch_flow(version.definition)
    with transaction.atomic():
        next_cursor = page.next_cursor or ""
        position = max(mark.position, newest) if not page.next_cursor and newest else mark.position
        # Conditional on the position this poll read the page at: two polls of one flow (a
        # resumption and a cron tick) never both store a page.
        if not Watermark.objects.filter(pk=mark.pk, cursor=mark.cursor, position=mark.position).update(
            cursor=next_cursor, position=position, updated_at=timezone.now()
        ):
            raise PageTaken()
        records = unseen(flow, page.records) if whole_page else []
        if records:  # one batch run per page, its records at $.records
            new += ingest_event(
                source=f"poll:{flow.key}",
                type=f"{mark.object}.changed",
                external_id=page_identity(records),
                payload={"records": records},
                connection=connection,
                versions=[version],
            ).created
        for record in [] if whole_page else page.records:
            result = ingest_event(
                source=f"poll:{flow.key}",
                type=f"{mark.object}.changed",
                external_id=record_identity(record),
                payload=record,
                connection=connection,
                versions=[version],
            )
            new += result.created
    mark.cursor, mark.position = next_cursor, position
    return new
