"""HubSpot CRM v3 views: OAuth token, object list / read / create / update / archive,
search, batch upsert by `idProperty`; deal writes emit signed webhooks."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import bearer
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.framework import sandbox_endpoint
from integrations.sandboxes.hubspot import VENDOR, records, search, search_limit, webhooks
from integrations.sandboxes.hubspot.auth import HOOKS, hs_error, issue_token, throttled
from integrations.sandboxes.hubspot.properties import ObjectType, PropertyError, clean, object_type

LIST_MAX, BATCH_MAX = 100, 100


class Invalid(Exception):
    def __init__(self, message: str, status: int = 400, category: str | None = None, **extra):
        super().__init__(message)
        self.response = hs_error(status, message, category, **extra)


def _json(request: HttpRequest) -> object:
    try:
        return json.loads(request.body or b"null")
    except ValueError as exc:
        raise Invalid(f"Invalid input JSON on line 1, column {getattr(exc, 'colno', 1)}: {exc.msg}") from None


def _type(name: str) -> ObjectType:
    otype = object_type(name)
    if otype is None:
        raise Invalid(f"Unable to infer object type from: {name}", 400, "VALIDATION_ERROR")
    return otype


def _validated(otype: ObjectType, properties: object, *, creating: bool) -> dict:
    try:
        return clean(otype, properties, creating=creating)
    except PropertyError as exc:
        raise Invalid(str(exc), 400, "VALIDATION_ERROR", errors=exc.errors) from None


def _wanted(request: HttpRequest, name: str) -> list[str]:
    return [p.strip() for value in request.GET.getlist(name) for p in value.split(",") if p.strip()]


def _conflict(otype: ObjectType, properties: dict) -> None:
    value = records.external_of(otype, properties)
    if value:
        other = store.get_by_external_id(VENDOR, otype.name, value)
        if other is not None:
            raise Invalid(f"{otype.singular} already exists. Existing ID: {other.record_id}", 409, "CONFLICT")


def _changes(otype: ObjectType, record_id: str, before: dict | None, after: dict) -> list[dict]:
    return webhooks.deal_changed(record_id, before, after) if otype.name == "deals" else []


def _notify(events: list[dict]) -> None:
    """One signed request for the events of one API call: HubSpot batches the events it
    has for a subscriber into one request (https://developers.hubspot.com/docs/api/webhooks)."""
    webhooks.send(events, wait=getattr(settings, "SWITCHBOARD_SANDBOX_WEBHOOKS_SYNC", False))


def handled(view):
    """Turn `Invalid` into HubSpot's error body; a failed request writes nothing (savepoint),
    and a unique value taken by a concurrent request is HubSpot's 409."""

    def wrapped(request, *args, **kwargs):
        try:
            with transaction.atomic():
                return view(request, *args, **kwargs)
        except Invalid as exc:
            return exc.response
        except IntegrityError:
            return hs_error(409, "An object with that unique property value already exists.", "CONFLICT")

    wrapped.__name__ = view.__name__
    return wrapped


@bearer.token_endpoint  # the vendor's OAuth service: outside the data API's faults and rate limit
def token(request: HttpRequest) -> HttpResponse:
    return issue_token(request)


@sandbox_endpoint(HOOKS)
@handled
def collection(request: HttpRequest, object_name: str) -> HttpResponse:
    otype = _type(object_name)
    if request.method == "POST":
        body = _json(request)
        if not isinstance(body, dict):
            raise Invalid("Invalid input JSON: expected an object with properties")
        properties = _validated(otype, body.get("properties"), creating=True)
        _conflict(otype, properties)
        row = records.create(otype, properties, _associations(body.get("associations")))
        _notify(_changes(otype, row.record_id, None, row.data["properties"]))
        return JsonResponse(records.shape(otype, row, list(properties)), status=201)
    if request.method != "GET":
        raise Invalid("Method not allowed", 405, "METHOD_NOT_ALLOWED")
    try:
        limit = min(int(request.GET.get("limit", 10)), LIST_MAX)
        after = int(request.GET.get("after") or 0)
    except ValueError:
        raise Invalid("limit and after must be integers") from None
    if limit < 1:
        raise Invalid("limit must be at least 1")
    rows = list(store.records(VENDOR, otype.name).filter(id__gte=after).order_by("id")[: limit + 1])
    body = {"results": [records.shape(otype, r, _wanted(request, "properties") or None,
                                      _wanted(request, "associations")) for r in rows[:limit]]}  # fmt: skip
    if len(rows) > limit:
        nxt = str(rows[limit].id)
        link = request.build_absolute_uri(f"{request.path}?limit={limit}&after={nxt}")
        body["paging"] = {"next": {"after": nxt, "link": link}}
    return JsonResponse(body)


def _associations(raw: object) -> dict:
    """`associations: [{to: {id}, types: [...]}]` on create, kept as {companies: [ids]}."""
    linked: dict[str, list[str]] = {}
    if not isinstance(raw or [], list):
        raise Invalid("associations must be a list")
    for item in raw or []:
        if not isinstance(item, dict) or not isinstance(item.get("to") or {}, dict):
            raise Invalid("Each association needs to.id")
        target = str(((item or {}).get("to") or {}).get("id", ""))
        if not target:
            raise Invalid("Each association needs to.id")
        kind = next((n for n in ("companies", "contacts", "deals") if store.get(VENDOR, n, target)), None)
        if kind is None:
            raise Invalid(f"No object with id {target} to associate", 400, "VALIDATION_ERROR")
        linked.setdefault(kind, []).append(target)
    return linked


@sandbox_endpoint(HOOKS)
@handled
def item(request: HttpRequest, object_name: str, object_id: str) -> HttpResponse:
    otype = _type(object_name)
    id_property = request.GET.get("idProperty") or None
    if id_property and id_property not in otype.id_properties():
        raise Invalid(f"{id_property} is not a unique property of {otype.name}", 400, "VALIDATION_ERROR")
    row = records.find(otype, object_id, id_property)
    if row is None:
        raise Invalid("Object not found.  objectId are usually numeric.", 404, "OBJECT_NOT_FOUND",
                      context={"id": [object_id]})  # fmt: skip
    if request.method == "GET":
        return JsonResponse(records.shape(otype, row, _wanted(request, "properties") or None,
                                          _wanted(request, "associations")))  # fmt: skip
    if request.method == "PATCH":
        body = _json(request)
        properties = _validated(otype, (body or {}).get("properties") if isinstance(body, dict) else None,
                                creating=False)  # fmt: skip
        if otype.unique in properties:
            other = records.find(otype, properties[otype.unique], otype.unique)
            if other is not None and other.pk != row.pk:
                raise Invalid(f"{otype.singular} already exists. Existing ID: {other.record_id}", 409, "CONFLICT")
        before = dict(row.data["properties"])
        row = records.update(otype, row, properties)
        _notify(_changes(otype, row.record_id, before, row.data["properties"]))
        return JsonResponse(records.shape(otype, row, list(properties)))
    if request.method == "DELETE":
        row.delete()
        return HttpResponse(status=204)
    raise Invalid("Method not allowed", 405, "METHOD_NOT_ALLOWED")


@sandbox_endpoint(HOOKS, write=False)
@handled
def search_view(request: HttpRequest, object_name: str) -> HttpResponse:
    otype = _type(object_name)
    if request.method != "POST":
        raise Invalid("Method not allowed", 405, "METHOD_NOT_ALLOWED")
    if search_limit.over_limit():  # search has its own, lower limit per account
        return throttled("SECONDLY", "You have reached your secondly limit for the CRM search API.")
    try:
        body = search.validate(_json(request))
        after = int(body.get("after") or 0)
    except (search.SearchError, ValueError) as exc:
        raise Invalid(str(exc), 400, "VALIDATION_ERROR") from None
    for flt in (f for g in body.get("filterGroups") or [] for f in g.get("filters") or []):
        if flt["propertyName"] not in otype.properties:
            raise Invalid(f"Property {flt['propertyName']} does not exist on {otype.name}", 400, "VALIDATION_ERROR")
    visible = [r for r in store.records(VENDOR, otype.name).order_by("id") if search_limit.indexed(r.data["updatedAt"])]
    rows = search.run(body, visible, lambda r: r.data["properties"])
    limit, wanted = body.get("limit", 10), body.get("properties") or None
    chunk = rows[after : after + limit]
    result = {"total": len(rows), "results": [records.shape(otype, r, wanted) for r in chunk]}
    if after + limit < min(len(rows), search.MAX_RESULTS):
        result["paging"] = {"next": {"after": str(after + limit)}}
    return JsonResponse(result)


@sandbox_endpoint(HOOKS)
@handled
def batch_upsert(request: HttpRequest, object_name: str) -> HttpResponse:
    otype = _type(object_name)
    if request.method != "POST":
        raise Invalid("Method not allowed", 405, "METHOD_NOT_ALLOWED")
    body = _json(request)
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not inputs:
        raise Invalid("inputs must be a non-empty list")
    if len(inputs) > BATCH_MAX:
        raise Invalid(f"Batch input cannot exceed {BATCH_MAX} inputs")
    started = records.now_iso()
    plans, seen, errors = [], set(), []
    for entry in inputs:
        if not isinstance(entry, dict) or not isinstance(entry.get("properties") or {}, dict):
            raise Invalid("Each input must be an object with idProperty, id and properties")
        id_property, value = (entry or {}).get("idProperty"), str((entry or {}).get("id") or "")
        if id_property != otype.unique:
            raise Invalid(f"idProperty {id_property!r} is not a unique-value property of {otype.name}; "
                          f"use {otype.unique}", 400, "VALIDATION_ERROR")  # fmt: skip
        if not value or value in seen:
            raise Invalid(f"Duplicate or empty id in batch input: {value!r}", 400, "VALIDATION_ERROR")
        seen.add(value)
        row = records.find(otype, value, otype.unique)
        raw = {**((entry or {}).get("properties") or {})}
        # Every input is validated on its own: a bad one is reported in the 207 answer, the
        # good ones are written (multi-status; no input is ever half-written).
        try:
            if row is None:
                clean(otype, {**raw, otype.unique: value}, creating=True)
            plans.append((value, row, clean(otype, raw, creating=False)))
        except PropertyError as exc:
            plans.append((value, row, None))
            errors.append({"status": "error", "category": "VALIDATION_ERROR", "message": str(exc),
                           "context": {"id": [value]}, "errors": exc.errors})  # fmt: skip
    request.sandbox_external_id = ",".join(sorted(seen))[:255]
    if errors and len(errors) == len(plans):  # nothing to write: the first error, as a plain 400
        return hs_error(400, errors[0]["message"], "VALIDATION_ERROR", errors=errors[0]["errors"])
    results, events = [], []
    for value, row, properties in plans:
        if properties is None:
            continue
        if row is None:
            row = records.create(otype, {**properties, otype.unique: value})
            events += _changes(otype, row.record_id, None, row.data["properties"])
            results.append({**records.shape(otype, row, [*properties, otype.unique]), "new": True})
        else:
            before = dict(row.data["properties"])
            row = records.update(otype, row, properties)
            events += _changes(otype, row.record_id, before, row.data["properties"])
            results.append({**records.shape(otype, row, [*properties, otype.unique]), "new": False})
    _notify(events)
    body = {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": records.now_iso()}
    if errors:  # some inputs written, some not: 207 Multi-Status with one error per failed input
        return JsonResponse({**body, "numErrors": len(errors), "errors": errors}, status=207)
    return JsonResponse(body)
