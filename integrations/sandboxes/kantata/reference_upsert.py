"""Kantata's create-or-update of one external reference, as documented:
POST /api/v1/external_references/create_or_update with `{"external_reference": {...}}`
https://developer.kantata.com/kantata/specification/external-references/create-or-update-external-reference

Required: subject_type, subject_id (the Kantata object, which must exist), service_name,
service_model, service_model_ref; optional: status ('pending', 'successful' or 'failed' — the
documented options), external_status ("the status of the external object in the external
system"), external_message, external_link. The endpoint takes one object: the page documents no
bulk form (unlike POST /time_entries, "bulk creating up to 100 objects"), so a body without an
`external_reference` object — a plural `external_references` list included — is refused.

Which existing reference is "the same" is not documented; the sandbox keeps its one rule for
references (unique per subject type, service, model and reference, records.reference_key): a
reference with those four values on the same subject is updated (status, external_*,
last_synced_at), none is created, and one on another subject is Kantata's validation error
"Service model ref has already been taken". The answer is the normalised envelope under
`external_references` (https://developer.kantata.com/kantata/specification/external-references)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.framework import sandbox_endpoint
from integrations.sandboxes.kantata import VENDOR, records, views
from integrations.sandboxes.kantata.auth import HOOKS
from integrations.sandboxes.kantata.resources import RESOURCES, SUBJECTS, Invalid

IDENTITY = ("subject_type", "subject_id", "service_name", "service_model", "service_model_ref")
DETAILS = ("status", "external_status", "external_message", "external_link")
STATUSES = ("pending", "successful", "failed")
RESOURCE = RESOURCES["external_references"]


def _clean(attributes: object) -> dict:
    if not isinstance(attributes, dict):
        raise Invalid(None, "Request body must contain an 'external_reference' object", 400, "system")
    values = {}
    for name in IDENTITY:
        value = attributes.get(name)
        if value is None or str(value).strip() == "":
            raise Invalid(name, f"{name.replace('_', ' ').capitalize()} can't be blank")
        values[name] = str(value)
    if values["subject_type"] not in SUBJECTS:
        raise Invalid("subject_type", "Subject type is not included in the list")
    for name in DETAILS:
        if name in attributes:
            values[name] = None if attributes[name] is None else str(attributes[name])
    if "status" in values and values["status"] not in STATUSES:
        raise Invalid("status", f"Status must be one of {', '.join(STATUSES)}")
    return values


@sandbox_endpoint(HOOKS)
@views.handled
def create_or_update(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        raise Invalid(None, f"{request.method} is not supported for external_references/create_or_update", 405,
                      "system")  # fmt: skip
    values = _clean(views.json_body(request).get("external_reference"))
    subject = SUBJECTS[values["subject_type"]]
    if store.get(VENDOR, subject.key, values["subject_id"]) is None:
        raise Invalid("subject", "Subject must exist")
    values["last_synced_at"] = records.now_iso()
    row = store.get_by_external_id(VENDOR, RESOURCE.key, records.reference_key(values))
    if row is None:
        row = records.create(RESOURCE, values)
    elif str(row.data.get("subject_id")) != values["subject_id"]:
        raise Invalid("service_model_ref", "Service model ref has already been taken")
    else:
        row = records.update(RESOURCE, row, {k: v for k, v in values.items() if k not in IDENTITY})
    request.sandbox_external_id = values["service_model_ref"][:255]
    return JsonResponse(records.envelope(RESOURCE.key, [row]))
