"""Kantata records in the sandbox store: numeric ids, timestamps, defaults per resource,
index filtering and paging in the database, and Kantata's normalised envelope."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import QuerySet

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.kantata import ACCOUNT_ID, VENDOR
from integrations.sandboxes.kantata.resources import Invalid, Resource, price_fields
from integrations.sandboxes.models import SandboxRecord

ID_BASE = {"workspaces": 41_290_000, "users": 20_300, "time_entries": 903_300_000, "stories": 778_800,
           "participations": 66_120_000, "external_references": 7_100_000, "expenses": 5_510_000,
           "invoices": 3_310_000, "account_invitations": 88_400, "account_memberships": 3_720_000}  # fmt: skip
DEFAULT_PER_PAGE, MAX_PER_PAGE = 20, 200
ORDERABLE = ("id", "updated_at", "created_at", "date_performed", "title", "start_date")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def next_id(key: str) -> str:
    with transaction.atomic():
        row, _ = SandboxRecord.objects.select_for_update().get_or_create(
            vendor=VENDOR, object_type="_seq", record_id=key, defaults={"data": {"n": 0}}
        )
        row.data = {"n": row.data.get("n", 0) + 1}
        row.save(update_fields=["data", "updated_at"])
    return str(ID_BASE[key] + row.data["n"])


def set_sequence(key: str, value: int) -> None:
    SandboxRecord.objects.update_or_create(vendor=VENDOR, object_type="_seq", record_id=key,
                                           defaults={"data": {"n": value}})  # fmt: skip


def reference_key(data: dict) -> str:
    """External references are unique per subject type, service, model and reference."""
    parts = (
        data.get("subject_type"),
        data.get("service_name"),
        data.get("service_model"),
        data.get("service_model_ref"),
    )
    return "|".join(str(p or "") for p in parts)


def defaults(resource: Resource, values: dict) -> dict:
    """A new record as Kantata returns it: every attribute present, server fields filled."""
    base: dict = {"workspaces": {"description": "", "budgeted": False, "archived": False, "currency": "USD",
                                 "start_date": None, "due_date": None, "primary_counterpart_id": None,
                                 "status": {"color": "grey", "key": 100, "message": "Not Started"},
                                 "account_id": ACCOUNT_ID, "participant_ids": [], "price": None},
                  "time_entries": {"user_id": None, "story_id": None, "billable": True, "notes": "",
                                   "rate_in_cents": 0, "currency": "USD", "approved": False, "is_invoiced": False,
                                   "invoice_id": None, "role_id": None},
                  "stories": {"story_type": "task", "state": "not started", "start_date": None, "due_date": None,
                              "assignee_ids": [], "time_estimate_in_minutes": None, "billable": True,
                              "parent_id": None},
                  "participations": {"permission": "viewer", "is_team_lead": False},
                  "expenses": {"user_id": None, "currency": "USD", "billable": True, "notes": "",
                               "is_invoiced": False, "invoice_id": None},
                  "external_references": {"status": "synced", "external_link": None, "external_message": None},
                  }.get(resource.key, {})  # fmt: skip
    record = {**base, **values}
    if resource.key == "workspaces":
        record.update(price_fields(record.get("price")))
    return record


def create(resource: Resource, values: dict) -> SandboxRecord:
    stamp, record_id = now_iso(), next_id(resource.key)
    data = {"id": record_id, **defaults(resource, values), "created_at": stamp, "updated_at": stamp}
    external = reference_key(data) if resource.key == "external_references" else None
    return store.create(VENDOR, resource.key, record_id, data, external_id=external)


def update(resource: Resource, row: SandboxRecord, values: dict) -> SandboxRecord:
    changes = {**values, "updated_at": now_iso()}
    if resource.key == "workspaces" and "price" in values:
        changes.update(price_fields(values["price"]))
    return store.update(row, changes)


# --- index ----------------------------------------------------------------------------------
def _bool(name: str, value: str) -> bool:
    if value.lower() not in ("true", "false", "1", "0"):
        raise Invalid(name, f"{name} must be true or false", 400, "system")
    return value.lower() in ("true", "1")


def filtered(resource: Resource, params) -> QuerySet[SandboxRecord]:
    qs = store.records(VENDOR, resource.key)
    if resource.needs_filter and not params.get(resource.needs_filter):
        raise Invalid(resource.needs_filter, f"{resource.needs_filter} is required to list {resource.key}",
                      400, "system")  # fmt: skip
    for name, how in resource.filters.items():
        value = params.get(name)
        if value in (None, ""):
            continue
        if how == "eq":
            qs = qs.filter(**{f"data__{name}": value})
        elif how == "bool":
            qs = qs.filter(**{f"data__{name}": _bool(name, value)})
        elif how == "approved":  # "always processed as true; the actual value you provide is ignored"
            qs = qs.filter(data__approved=True)
        elif how == "uninvoiced" and _bool(name, value):
            qs = qs.filter(data__is_invoiced=False)
        elif how == "email":
            qs = qs.filter(data__email_address__iexact=value)
        elif how == "after":
            qs = qs.filter(data__updated_at__gt=_timestamp(name, value))
        elif how == "between":
            start, _, end = value.partition(":")
            if not (start and end):
                raise Invalid(name, f"{name} must look like 2025-04-01:2025-04-30", 400, "system")
            qs = qs.filter(data__date_performed__gte=start, data__date_performed__lte=end)
    qs = _by_external_reference(resource, qs, params)
    if params.get("only"):
        qs = qs.filter(record_id__in=[i.strip() for i in params["only"].split(",") if i.strip()])
    if params.get("search"):
        qs = qs.filter(data__title__icontains=params["search"])
    return _ordered(qs, params.get("order", ""))


REFERENCE_FILTERS = ("service_name", "service_model", "service_model_ref", "external_status", "external_message")


def _by_external_reference(resource: Resource, qs: QuerySet, params) -> QuerySet:
    """`external_reference_<attribute>=value` on a subject's index: records that carry a
    reference with that attribute. Each filter is matched on its own — whether Kantata asks
    one reference to satisfy all of them is not documented, so the sandbox takes the looser
    reading and a caller must check the reference it gets back."""
    wanted = {a: params[f"external_reference_{a}"] for a in REFERENCE_FILTERS if params.get(f"external_reference_{a}")}
    if not wanted or resource.key == "external_references":
        return qs
    refs = store.records(VENDOR, "external_references").filter(data__subject_type=resource.subject_type)
    for attribute, value in wanted.items():
        subjects = refs.filter(**{f"data__{attribute}": value}).values_list("data__subject_id", flat=True)
        qs = qs.filter(record_id__in=[str(s) for s in subjects])
    return qs


def references_of(rows: list[SandboxRecord], subject_type: str) -> dict[str, list[SandboxRecord]]:
    """The external references of each row, by the row's id (for `include=external_references`)."""
    ids = [r.record_id for r in rows]
    found: dict[str, list[SandboxRecord]] = {i: [] for i in ids}
    refs = store.records(VENDOR, "external_references").filter(data__subject_type=subject_type,
                                                               data__subject_id__in=ids)  # fmt: skip
    for ref in refs.order_by("id"):
        found[str(ref.data["subject_id"])].append(ref)
    return found


def _timestamp(name: str, value: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(name, f"{name} must be an ISO 8601 time", 400, "system") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _ordered(qs: QuerySet, order: str) -> QuerySet:
    if not order:
        return qs.order_by("id")
    name, _, direction = order.partition(":")
    if name not in ORDERABLE or direction not in ("", "asc", "desc"):
        raise Invalid("order", f"order must be one of {', '.join(ORDERABLE)} with :asc or :desc", 400, "system")
    column = "id" if name == "id" else f"data__{name}"
    return qs.order_by(f"-{column}" if direction == "desc" else column, "id")


def paged(qs: QuerySet, params) -> tuple[list[SandboxRecord], dict]:
    """limit/offset take precedence over page/per_page (default 20, at most 200)."""
    try:
        if params.get("limit") or params.get("offset"):
            size = min(int(params.get("limit") or DEFAULT_PER_PAGE), MAX_PER_PAGE)
            offset = int(params.get("offset") or 0)
        else:
            size = min(int(params.get("per_page") or DEFAULT_PER_PAGE), MAX_PER_PAGE)
            offset = (max(1, int(params.get("page") or 1)) - 1) * size
    except ValueError:
        raise Invalid("page", "page, per_page, limit and offset must be integers", 400, "system") from None
    if size < 1 or offset < 0:
        raise Invalid("per_page", "per_page and limit must be positive", 400, "system")
    total = qs.count()
    meta = {"count": total, "page_count": max(1, math.ceil(total / size)), "page_number": offset // size + 1,
            "page_size": size}  # fmt: skip
    return list(qs[offset : offset + size]), meta


def envelope(key: str, rows: list[SandboxRecord], meta: dict | None = None, included: dict | None = None) -> dict:
    meta = meta or {"count": len(rows), "page_count": 1, "page_number": 1, "page_size": max(1, len(rows))}
    body = {"count": meta["count"], "meta": meta, "results": [{"key": key, "id": r.record_id} for r in rows],
            key: {r.record_id: r.data for r in rows}}  # fmt: skip
    for other, objects in (included or {}).items():
        body.setdefault(other, {}).update(objects)
    return body


def side_load(rows: list[SandboxRecord], include: str, subject_type: str = "") -> dict:
    """`include=workspace,user,story`: the referenced records under their own keys;
    `include=external_references`: each row's references, listed on it as external_reference_ids."""
    loaded: dict[str, dict] = {}
    for name in (n.strip() for n in include.split(",") if n.strip()):
        if name == "external_references" and subject_type:
            refs = references_of(rows, subject_type)
            for row in rows:
                row.data = {**row.data, "external_reference_ids": [r.record_id for r in refs[row.record_id]]}
            loaded["external_references"] = {r.record_id: r.data for found in refs.values() for r in found}
            continue
        key = {"workspace": "workspaces", "user": "users", "story": "stories"}.get(name)
        if key is None:
            raise Invalid("include", f"{name} is not an includable association", 400, "system")
        ids = {r.data.get(f"{name}_id") for r in rows} - {None}
        loaded[key] = {r.record_id: r.data for r in store.records(VENDOR, key).filter(record_id__in=ids)}
    return loaded
