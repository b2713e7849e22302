"""Kantata API v1 views: OAuth code exchange, index / show / create (singular or bulk) /
update / destroy for workspaces, users, time entries, stories, participations and
external references, with nested `external_references_attributes` on create."""

from __future__ import annotations

import json

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import bearer
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.framework import sandbox_endpoint
from integrations.sandboxes.kantata import VENDOR, records
from integrations.sandboxes.kantata.auth import HOOKS, issue_token, k_error
from integrations.sandboxes.kantata.resources import RESOURCES, SUBJECTS, Invalid, Resource, check_dates, clean

BULK_MAX = 100
REFERENCES = {"workspace_id": "workspaces", "user_id": "users", "story_id": "stories", "parent_id": "stories"}


def _resource(key: str) -> Resource:
    resource = RESOURCES.get(key)
    if resource is None:
        raise Invalid(None, f"No route matches /api/v1/{key}", 404, "not_found")
    return resource


def json_body(request: HttpRequest) -> dict:
    """The request's JSON object (the sandbox's other modules read bodies through this too);
    anything else is Kantata's 400."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise Invalid(None, "The request body is not valid JSON", 400, "system") from None
    if not isinstance(body, dict):
        raise Invalid(None, "The request body must be a JSON object", 400, "system")
    return body


def _check_references(values: dict) -> None:
    for name, key in REFERENCES.items():
        if values.get(name) and store.get(VENDOR, key, values[name]) is None:
            raise Invalid(name, f"{name.replace('_id', '').capitalize()} must exist")
    if values.get("subject_type"):
        subject = SUBJECTS.get(values["subject_type"])
        if subject is None or store.get(VENDOR, subject.key, values.get("subject_id", "")) is None:
            raise Invalid("subject", "Subject must exist")


def _check_reference_free(data: dict) -> None:
    if store.get_by_external_id(VENDOR, "external_references", records.reference_key(data)) is not None:
        raise Invalid("service_model_ref", "Service model ref has already been taken")


def _plan_create(resource: Resource, attributes: object) -> tuple[dict, list[dict]]:
    """Validate one new record and its nested external references; write nothing."""
    values = clean(resource, attributes, creating=True)
    _check_references(values)
    check_dates(values)
    nested = []
    raws = attributes.get("external_references_attributes") or []
    if not isinstance(raws, list) or not all(isinstance(r, dict) for r in raws):
        raise Invalid("external_references_attributes", "External references attributes must be a list of objects")
    for raw in raws:
        ref = clean(RESOURCES["external_references"], {**raw, "subject_type": resource.subject_type,
                                                       "subject_id": "pending"}, creating=True)  # fmt: skip
        _check_reference_free(ref)
        nested.append(ref)
    if resource.key == "external_references":
        _check_reference_free(values)
    return values, nested


def handled(view):
    """Kantata's error body for `Invalid`; a failed request writes nothing (savepoint), and an
    external reference taken by a concurrent request is Kantata's validation error."""

    def wrapped(request, *args, **kwargs):
        try:
            with transaction.atomic():
                return view(request, *args, **kwargs)
        except Invalid as exc:
            return k_error(exc.status, exc.message, exc.kind, exc.field)
        except IntegrityError:
            return k_error(422, "Service model ref has already been taken", "validation", "service_model_ref")

    wrapped.__name__ = view.__name__
    return wrapped


@bearer.token_endpoint  # the vendor's OAuth service: outside the data API's faults and rate limit
def token(request: HttpRequest) -> HttpResponse:
    return issue_token(request)


@sandbox_endpoint(HOOKS)
@handled
def collection(request: HttpRequest, key: str) -> HttpResponse:
    resource = _resource(key)
    if request.method == "GET":
        if resource.key == "external_references" and not request.GET.get("subject_type"):
            raise Invalid("subject_type", "subject_type is required", 400, "system")
        rows, meta = records.paged(records.filtered(resource, request.GET), request.GET)
        included = records.side_load(rows, request.GET.get("include", ""), resource.subject_type)
        return JsonResponse(records.envelope(resource.key, rows, meta, included))
    if request.method != "POST" or not resource.creatable:
        raise Invalid(None, f"{request.method} is not supported for {resource.key}", 405, "system")
    body = json_body(request)
    if resource.key in body:  # bulk create with the plural key
        items = body[resource.key]
        if not isinstance(items, list) or not 0 < len(items) <= BULK_MAX:
            raise Invalid(None, f"{resource.key} must be a list of 1 to {BULK_MAX} objects", 400, "system")
    elif resource.singular in body:
        items = [body[resource.singular]]
    else:
        raise Invalid(None, f"Request body must contain a '{resource.singular}' object", 400, "system")
    plans = [_plan_create(resource, item) for item in items]  # every item valid before any is written
    keys = [records.reference_key(ref) for _values, nested in plans for ref in nested]
    if resource.key == "external_references":
        keys += [records.reference_key(values) for values, _nested in plans]
    if len(keys) != len(set(keys)):
        raise Invalid("service_model_ref", "Service model ref has already been taken")
    created = []
    for values, nested in plans:
        row = records.create(resource, values)
        for ref in nested:
            records.create(RESOURCES["external_references"], {**ref, "subject_id": row.record_id})
        created.append(row)
    request.sandbox_external_id = ",".join(r["service_model_ref"] for _v, n in plans for r in n)[:255]
    return JsonResponse(records.envelope(resource.key, created))


@sandbox_endpoint(HOOKS)
@handled
def item(request: HttpRequest, key: str, record_id: str) -> HttpResponse:
    resource = _resource(key)
    row = store.get(VENDOR, resource.key, record_id)
    if row is None:
        raise Invalid(None, f"The requested {resource.singular.replace('_', ' ')} could not be found", 404,
                      "not_found")  # fmt: skip
    if request.method == "GET":
        included = records.side_load([row], request.GET.get("include", ""), resource.subject_type)
        return JsonResponse(records.envelope(resource.key, [row], None, included))
    if request.method == "PUT":
        if not resource.creatable:
            raise Invalid(None, f"{resource.key} cannot be changed through the API", 405, "system")
        attributes = json_body(request).get(resource.singular)
        values = clean(resource, attributes, creating=False)
        _check_references(values)
        check_dates({**row.data, **values})
        if resource.key == "time_entries" and row.data.get("is_invoiced"):
            raise Invalid(None, "Time entry has been invoiced and can no longer be changed")
        row = records.update(resource, row, values)
        return JsonResponse(records.envelope(resource.key, [row]))
    if request.method == "DELETE":
        row.delete()
        return HttpResponse(status=204)
    raise Invalid(None, f"{request.method} is not supported", 405, "system")
