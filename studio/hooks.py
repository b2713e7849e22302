"""Native webhook intake: POST /hooks/<connection>/.

Verified by the connection's connector (`verify_webhook`: HMAC + timestamp window; the
generic inbound webhook uses Standard Webhooks). A forged or stale request is refused with
401 and nothing is stored; a repeated `webhook-id` answers 200 with the first result and
starts nothing new. The event is stored before the 2xx answer (docs/RELIABILITY.md §1).
A connector whose vendor batches events (`webhook_events`, HubSpot) gets one stored event per
entry, each deduplicated on its own id; the signature still covers the whole body."""

import logging

from django.db import transaction
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.connections.models import Connection
from integrations.connectors.errors import WebhookRejected
from integrations.connectors.registry import UnknownConnector, get_connector
from integrations.events.services import EventInvalid, ingest_event
from studio.api import json_body
from studio.api.errors import problem

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
ID_HEADERS = ("webhook-id", "x-event-id", "x-request-id")


def rejected(status: int, detail: str, field: str | None = None) -> JsonResponse:
    return problem(status, detail, errors={field: [detail]} if field else None)


def parse(connector, headers: dict, body: bytes) -> list[tuple[str, str, dict]]:
    """[(type, external id, payload)]: a connector may define `webhook_events` (a vendor that
    batches) or `webhook_event`; otherwise the Standard Webhooks shape {"type": ..., "data": {...}}
    with the id from `webhook-id`. The body is read by the API's one JSON reader first, so a
    connector decoding it again never meets nesting past the limit."""
    document = json_body.loads(body or b"null")
    if hasattr(connector, "webhook_events"):
        return connector.webhook_events(headers, body)
    if hasattr(connector, "webhook_event"):
        return [connector.webhook_event(headers, body)]
    if not isinstance(document, dict):
        raise EventInvalid("body", "must be a JSON object")
    lowered = {k.lower(): v for k, v in headers.items()}
    external_id = next((lowered[h] for h in ID_HEADERS if lowered.get(h)), "")
    payload = document.get("data") if isinstance(document.get("data"), dict) else document
    return [(str(document.get("type") or "webhook"), external_id, payload)]


def answer(result) -> dict:
    return {"event": result.event.pk, "runs": [r.pk for r in result.runs], "duplicate": not result.created}


@csrf_exempt
@require_POST
def receive(request, connection: str):
    conn = Connection.objects.filter(name=connection).first()
    if conn is None:
        return rejected(404, f"no connection named '{connection}'")
    if len(request.body) > MAX_BODY:
        return rejected(413, f"webhook bodies are limited to {MAX_BODY} bytes", "body")
    headers = dict(request.headers)
    try:
        connector = get_connector(conn)
        connector.verify_webhook(headers, request.body)
    except WebhookRejected as exc:
        log.info("webhook for %s rejected: %s", conn.name, exc.reason)
        return rejected(401, exc.reason)
    except UnknownConnector:
        return rejected(404, f"connection '{connection}' has no connector")
    try:
        entries = parse(connector, headers, request.body)
    except json_body.BodyRefused as exc:
        return rejected(400, str(exc), "body")
    except EventInvalid as exc:
        return rejected(400, exc.message, exc.field)
    except ValueError:  # json.JSONDecodeError, from the reader or a connector
        return rejected(400, "the body is not valid JSON", "body")
    results: list = []
    try:
        # A batch is stored whole or not at all: a bad entry stores none of the others.
        with transaction.atomic():
            for kind, ext_id, payload in entries:
                results.append(
                    ingest_event(source=conn.name, type=kind, external_id=ext_id, payload=payload, connection=conn)
                )
    except EventInvalid as exc:
        field = f"body[{len(results)}].{exc.field}" if len(entries) > 1 else exc.field
        return rejected(400, exc.message, field)
    created = any(r.created for r in results)
    if len(results) == 1:
        return JsonResponse(answer(results[0]), status=202 if created else 200)
    body = {"events": [answer(r) for r in results], "runs": [r.pk for x in results for r in x.runs],
            "duplicate": not created}  # fmt: skip
    return JsonResponse(body, status=202 if created else 200)


urlpatterns = [path("<slug:connection>/", receive, name="receive")]
