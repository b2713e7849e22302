"""What the exception pages read: a page of the queue, its groups, one exception with what
hangs off it, and the people work can be assigned to. Each is a fixed number of queries,
whatever the length of the queue."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Min, Q, Sum

from integrations.flows.models import Flow
from integrations.runs.models import Run, RunException
from integrations.runs.queries import filter_exceptions
from studio.ui import keyset

PAGE_SIZE = 50
MAX_GROUPS = 100
GROUP_FIELDS = {
    "signature": "message_signature",
    "step": "step_id",
    "classification": "classification",
}


def queue(filters: dict):
    return filter_exceptions(RunException.objects.select_related("flow", "assignee"), filters)


def page_of(filters: dict, cursor: str | None) -> keyset.Page:
    return keyset.paginate(queue(filters), cursor, PAGE_SIZE, field="last_seen")


@dataclass(frozen=True)
class Group:
    value: str  # what the group shares: the signature, step id or classification
    flows: int
    count: int  # exceptions in the group
    occurrences: int  # failures they stand for, duplicates included
    first_seen: object
    last_seen: object
    sample: str  # one member's message, as people read it
    step_id: str


@dataclass
class Groups:
    shown: list[Group]  # the largest MAX_GROUPS
    count: int  # groups in all
    exceptions: int  # exceptions in all the groups: the queue's count under these filters


def groups_of(filters: dict, group: str) -> Groups:
    """The largest groups first, at most MAX_GROUPS of them. The database groups by the field
    and the flow (a hash aggregate: no sort of the whole queue, which a distinct count of
    flows per group would need) and the few rows per group are folded here."""
    field = GROUP_FIELDS[group]
    rows = (
        filter_exceptions(RunException.objects.order_by(), filters)
        .values(field, "flow_id")
        .annotate(
            count=Count("id"),
            occurrences=Sum("duplicate_count"),
            first=Min("first_seen"),
            last=Max("last_seen"),
            sample=Max("message"),
            step=Max("step_id"),
        )
        .order_by()
    )
    folded: dict[str, dict] = {}
    for r in rows:
        g = folded.get(r[field])
        if g is None:
            folded[r[field]] = {**r, "flows": 1}
            continue
        g["flows"] += 1
        g["count"] += r["count"]
        g["occurrences"] += r["occurrences"]
        g["first"], g["last"] = min(g["first"], r["first"]), max(g["last"], r["last"])
        g["sample"], g["step"] = max(g["sample"], r["sample"]), max(g["step"], r["step"])
    largest = sorted(folded.values(), key=lambda g: (-g["count"], g[field]))[:MAX_GROUPS]
    shown = [
        Group(g[field], g["flows"], g["count"], g["occurrences"], g["first"], g["last"], g["sample"], g["step"])
        for g in largest
    ]
    return Groups(shown, len(folded), sum(g["count"] for g in folded.values()))


def flow_choices() -> list[tuple[str, str]]:
    return list(Flow.objects.order_by("key").values_list("key", "name"))


def one(pk: int) -> RunException:
    return (
        RunException.objects.select_related("flow", "assignee", "resolved_by", "run__flow_version")
        .prefetch_related("comments__author")
        .get(pk=pk)
    )


def retries_of(exc: RunException) -> list[Run]:
    """The runs that retried this exception's run (newest first), with their versions."""
    origin = exc.run.retry_of_id or exc.run_id
    runs = Run.objects.filter(Q(retry_of_id=origin) | Q(retry_of_id=exc.run_id)).select_related("flow_version")
    return list(runs.order_by("-id")[:20])


def workers() -> list[str]:
    """Usernames of the active people who may work exceptions (the assignee choices)."""
    users = get_user_model().objects.filter(is_active=True)
    allowed = Q(is_superuser=True) | Q(groups__permissions__codename="work_exceptions")
    allowed |= Q(user_permissions__codename="work_exceptions")
    return list(users.filter(allowed).order_by("username").values_list("username", flat=True).distinct())
