"""Reads for the flow list and the editor, in a fixed number of queries whatever the number
of flows (each column is one query over the page's flows, never one per row)."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, OuterRef, Q, Subquery, TextField
from django.db.models.functions import Cast
from django.urls import reverse

from integrations.flows.models import Flow, FlowVersion
from integrations.runs.choices import ExceptionStatus
from integrations.runs.models import Run, RunException
from integrations.triggers.backlog import by_flow

PAGE_SIZE = 50


STATUS_BADGE = {"active": "badge badge-ok", "paused": "badge badge-draft"}
RUN_BADGE = {"succeeded": "badge badge-ok", "failed": "badge badge-bad"}


@dataclass
class FlowRow:
    """One row of the list, with its links and badge classes worked out here: the template
    only prints (a list of 50 rows spends most of its time in template lookups otherwise)."""

    flow: Flow
    live_number: int | None
    has_draft: bool  # the draft differs from the live version (or nothing is live yet)
    last_run: Run | None
    open_exceptions: int
    backlog: dict
    editor_url: str = ""
    run_url: str = ""
    exceptions_url: str = ""
    status_class: str = "badge"
    run_class: str = "badge"
    backlog_text: str = ""


def filtered(filters: dict):
    flows = Flow.objects.select_related("owner")
    if filters.get("status"):
        flows = flows.filter(status=filters["status"])
    if filters.get("owner"):
        flows = flows.filter(owner__username=filters["owner"])
    if filters.get("tag"):
        # JSON list membership, spelled the same on SQLite and PostgreSQL: the tag as a quoted string
        flows = flows.annotate(tags_text=Cast("tags", TextField())).filter(tags_text__contains=f'"{filters["tag"]}"')
    if filters.get("connector"):
        draft_text = Subquery(
            FlowVersion.objects.filter(flow=OuterRef("pk"), state="draft")
            .annotate(text=Cast("definition", TextField()))
            .values("text")[:1]
        )
        flows = flows.annotate(draft_text=draft_text).filter(
            draft_text__contains=f'"connection": "{filters["connector"]}"'
        )
    if filters.get("q"):
        q = filters["q"]
        flows = flows.filter(Q(key__icontains=q) | Q(name__icontains=q) | Q(description__icontains=q))
    return flows.order_by("name", "key")


def rows(flows) -> list[FlowRow]:
    """Rows for a page of flows: five queries in all (versions, last runs, exceptions, backlog)."""
    flows = list(flows)
    ids = [f.pk for f in flows]
    if not ids:
        return []
    live: dict[int, tuple[int, str]] = {}
    drafts: dict[int, str] = {}
    versions = FlowVersion.objects.filter(flow_id__in=ids).values_list("flow_id", "state", "number", "content_hash")
    for flow_id, state, number, digest in versions.order_by("flow_id", "number"):
        if state == "draft":
            drafts[flow_id] = digest
        else:
            live[flow_id] = (number, digest)  # ascending: the newest published wins
    last_ids = (
        Flow.objects.filter(pk__in=ids)
        .annotate(
            last_run=Subquery(
                Run.objects.filter(flow_version__flow=OuterRef("pk"), is_test=False)
                .order_by("-created_at", "-id")
                .values("id")[:1]
            )
        )
        .values_list("pk", "last_run")
    )
    run_ids = {flow_id: run_id for flow_id, run_id in last_ids if run_id}
    runs = {r.pk: r for r in Run.objects.filter(pk__in=run_ids.values()).only("id", "status", "created_at")}
    exceptions = dict(
        RunException.objects.filter(flow_id__in=ids, status__in=(ExceptionStatus.OPEN, ExceptionStatus.ASSIGNED))
        .values_list("flow_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    backlog = by_flow(ids)
    flows_url, runs_url = reverse("flows:list"), reverse("runs:list")
    exceptions_url = reverse("exceptions:list")
    result = []
    for flow in flows:
        number, live_hash = live.get(flow.pk, (None, None))
        last_run = runs.get(run_ids.get(flow.pk))
        waiting = backlog.get(flow.pk, {"queued": 0, "in_progress": 0})
        busy = waiting["queued"] or waiting["in_progress"]
        result.append(
            FlowRow(
                flow=flow,
                live_number=number,
                has_draft=flow.pk in drafts and drafts[flow.pk] != live_hash,
                last_run=last_run,
                open_exceptions=exceptions.get(flow.pk, 0),
                backlog=waiting,
                editor_url=f"{flows_url}{flow.key}/",
                run_url=f"{runs_url}{last_run.pk}/" if last_run else "",
                exceptions_url=f"{exceptions_url}?{urlencode({'flow': flow.key, 'tab': 'open'})}",
                status_class=STATUS_BADGE.get(flow.status, "badge"),
                run_class=RUN_BADGE.get(last_run.status, "badge") if last_run else "badge",
                backlog_text=f"{waiting['queued']} queued, {waiting['in_progress']} in progress" if busy else "",
            )
        )
    return result


def runs_per_version(flow: Flow) -> dict[int, int]:
    return dict(
        Run.objects.filter(flow_version__flow=flow, is_test=False)
        .values_list("flow_version_id")
        .annotate(n=Count("id"))
        .order_by()
    )


def recent_runs(flow: Flow, limit: int = 20) -> list[Run]:
    return list(
        Run.objects.filter(flow_version__flow=flow)
        .select_related("flow_version")
        .only("id", "status", "trigger", "business_key", "created_at", "is_test", "flow_version__number")
        .order_by("-created_at", "-id")[:limit]
    )
