"""Filters shared by the API and the UI for runs and exceptions."""

from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce

EXCEPTION_FILTERS = (
    "status",
    "flow",
    "step_id",
    "classification",
    "business_key",
    "assignee",
    "tag",
    "signature",
    "ids",
    "q",
    "region",
)
RUN_FILTERS = ("status", "flow", "trigger", "business_key", "event")


def filter_exceptions(qs, filters: dict):
    f = filters or {}
    if f.get("status"):
        qs = qs.filter(status__in=_list(f["status"]))
    if f.get("flow"):
        qs = qs.filter(flow__key__in=_list(f["flow"]))
    for name, lookup in (
        ("step_id", "step_id"),
        ("classification", "classification"),
        ("business_key", "business_key"),
        ("signature", "message_signature"),
    ):
        if f.get(name):
            qs = qs.filter(**{lookup: f[name]})
    if f.get("assignee"):
        qs = qs.filter(assignee__username=f["assignee"])
    if f.get("tag"):
        qs = (
            qs.filter(tags__contains=[f["tag"]])
            if _json_contains_supported(qs)
            else qs.filter(tags__icontains=f'"{f["tag"]}"')
        )
    if f.get("ids"):
        qs = qs.filter(pk__in=[int(i) for i in _list(f["ids"]) if str(i).isdigit()])
    if f.get("q"):
        qs = qs.filter(Q(message__icontains=f["q"]) | Q(business_key__icontains=f["q"]))
    if f.get("region"):
        qs = _in_region(qs, f["region"])
    return qs


def record_region(prefix: str = ""):
    """The `region` of a run's record: its own input, else its event's payload."""
    return Coalesce(KeyTextTransform("region", f"{prefix}input"), KeyTextTransform("region", f"{prefix}event__payload"))


def _in_region(qs, region: str):
    """Exceptions whose run's record is in `region`; "unknown" means the record names none
    (how the dashboard's invoice panel counts them)."""
    qs = qs.annotate(record_region=record_region("run__"))
    if region == "unknown":
        return qs.filter(Q(record_region__isnull=True) | Q(record_region=""))
    return qs.filter(record_region=region)


def filter_runs(qs, filters: dict):
    f = filters or {}
    if f.get("status"):
        qs = qs.filter(status__in=_list(f["status"]))
    if f.get("flow"):
        qs = qs.filter(flow_version__flow__key=f["flow"])
    if f.get("trigger"):
        qs = qs.filter(trigger=f["trigger"])
    if f.get("business_key"):
        qs = qs.filter(business_key=f["business_key"])
    if f.get("event"):
        qs = qs.filter(event_id=int(f["event"])) if str(f["event"]).isdigit() else qs.none()
    return qs


def _list(value):
    if isinstance(value, (list, tuple)):
        return list(value)
    return [v for v in str(value).split(",") if v]


def _json_contains_supported(qs) -> bool:
    return _vendor(qs) != "sqlite"  # SQLite has no JSON containment lookup


def _vendor(qs) -> str:
    from django.db import connections

    return connections[qs.db].vendor
