"""Reads for the flow list and the editor, in a fixed number of queries whatever the number
of flows: the page's flows carry their columns as subqueries of the one page query (live
version, draft, last run, open exceptions), plus one query for the last runs' status and one
for the backlog; never one per row."""

from urllib.parse import urlencode

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, TextField
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse

from integrations.flows.choices import FlowStatus
from integrations.flows.models import Flow, FlowVersion
from integrations.runs.choices import ExceptionStatus, RunStatus
from integrations.runs.models import Run, RunException
from integrations.triggers.backlog import by_flow

PAGE_SIZE = 50


STATUS_BADGE = {"active": "badge badge-ok", "paused": "badge badge-draft"}
RUN_BADGE = {"succeeded": "badge badge-ok", "failed": "badge badge-bad"}
FLOW_STATUS = dict(FlowStatus.choices)
RUN_STATUS = dict(RunStatus.choices)
OPEN = (ExceptionStatus.OPEN, ExceptionStatus.ASSIGNED)


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
    return with_columns(flows).order_by("name", "key")


def with_columns(flows):
    """The list's columns as subqueries: the paginator's count leaves them out (unused there),
    and the page query computes them for its 50 flows only."""
    published = FlowVersion.objects.filter(flow=OuterRef("pk"), state="published").order_by("-number")
    draft = FlowVersion.objects.filter(flow=OuterRef("pk"), state="draft").order_by()  # one per flow
    last_run = Run.objects.filter(flow_version__flow=OuterRef("pk"), is_test=False).order_by("-created_at", "-id")
    open_exceptions = (
        RunException.objects.filter(flow=OuterRef("pk"), status__in=OPEN)
        .order_by()
        .values("flow")
        .annotate(n=Count("id"))
        .values("n")
    )
    return flows.annotate(
        live_number=Subquery(published.values("number")[:1]),
        live_hash=Subquery(published.values("content_hash")[:1]),
        draft_hash=Subquery(draft.values("content_hash")[:1]),
        last_run_id=Subquery(last_run.values("id")[:1]),
        open_exceptions=Coalesce(Subquery(open_exceptions, output_field=IntegerField()), 0),
    )


def rows(flows) -> list[dict]:
    """One dict of ready-to-print text per flow of the page (links, labels, badge classes): the
    template only prints, as 50 rows of attribute chains, filters and choice lookups cost more
    in the template engine than the queries do. Two queries: the last runs, the backlog."""
    flows = list(flows)
    if not flows:
        return []
    runs = Run.objects.filter(pk__in=[f.last_run_id for f in flows if f.last_run_id]).only("id", "status", "created_at")
    last_runs = {r.pk: r for r in runs}
    backlog = by_flow([f.pk for f in flows])
    flows_url, runs_url, exceptions_url = reverse("flows:list"), reverse("runs:list"), reverse("exceptions:list")
    result = []
    for flow in flows:
        run = last_runs.get(flow.last_run_id)
        waiting = backlog.get(flow.pk, {"queued": 0, "in_progress": 0})
        busy = waiting["queued"] or waiting["in_progress"]
        result.append(
            {
                "key": flow.key,
                "name": flow.name,
                "tags": flow.tags if isinstance(flow.tags, list) else [],
                "owner": flow.owner.username if flow.owner else "—",
                "status_label": FLOW_STATUS.get(flow.status, flow.status),
                "status_class": STATUS_BADGE.get(flow.status, "badge"),
                "live": f"v{flow.live_number}" if flow.live_number else "",
                # the draft differs from the live version (or nothing is live yet)
                "has_draft": flow.draft_hash is not None and flow.draft_hash != flow.live_hash,
                "editor_url": f"{flows_url}{flow.key}/",
                "run_at": run.created_at if run else None,
                "run_url": f"{runs_url}{run.pk}/" if run else "",
                "run_label": RUN_STATUS.get(run.status, run.status) if run else "",
                "run_class": RUN_BADGE.get(run.status, "badge") if run else "badge",
                "backlog_text": f"{waiting['queued']} queued, {waiting['in_progress']} in progress" if busy else "0",
                "open_exceptions": str(flow.open_exceptions or ""),
                "exceptions_url": f"{exceptions_url}?{urlencode({'flow': flow.key, 'tab': 'open'})}",
            }
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
