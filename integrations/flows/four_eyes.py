"""Four-eyes publishing: a draft that delivers to an ERP connection is published only once a
second person with publish rights approves it; its author cannot approve their own request.

Capabilities are checked by the callers (the studio and the API: `publish_flows`); this module
enforces who may decide and that what is approved is exactly what was requested."""

from django.db import transaction
from django.utils import timezone

from integrations.audit import services as audit
from integrations.connections.models import Connection
from integrations.flows import services
from integrations.flows.models import Flow, FlowVersion, PublishRequest

# Connector kinds whose writes land in a company's books: a wrong publish there costs money.
ERP_KINDS = frozenset({"netsuite"})


class FourEyesRefused(ValueError):
    """The request cannot be made or decided; `field` names what to change."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def erp_targets(definition) -> list[str]:
    """Names of the ERP connections the definition delivers to (a connection's config may also
    mark itself `"erp": true`, for a generic REST API in front of an ERP)."""
    steps = definition.get("steps") if isinstance(definition, dict) else None
    names = {
        s["connection"]
        for s in (steps if isinstance(steps, list) else [])
        if isinstance(s, dict) and s.get("type") == "deliver" and isinstance(s.get("connection"), str)
    }
    if not names:
        return []
    rows = Connection.objects.filter(name__in=names).values_list("name", "kind", "config")
    return sorted(name for name, kind, config in rows if kind in ERP_KINDS or (config or {}).get("erp") is True)


def pending(flow: Flow) -> PublishRequest | None:
    return flow.publish_requests.filter(state=PublishRequest.State.PENDING).select_related("requested_by").first()


@transaction.atomic
def request_publish(flow: Flow, user, *, notes: str, override_reason: str = "") -> PublishRequest:
    flow = Flow.objects.select_for_update().get(pk=flow.pk)
    if not notes.strip():
        raise FourEyesRefused("notes", "a publish note is required: say what changes and why")
    draft = services.draft_of(flow)
    if errors := services.validate(draft.definition):
        raise services.DraftInvalid(errors)
    if pending(flow) is not None:
        raise FourEyesRefused("notes", "a publish request is already waiting for approval; withdraw it first")
    request = PublishRequest.objects.create(
        flow=flow,
        content_hash=draft.content_hash,
        notes=notes.strip(),
        override_reason=override_reason.strip(),
        requested_by=services.person(user),
    )
    audit.record(
        user,
        "flow.publish.request",
        flow,
        after={"request": request.pk, "notes": request.notes, "override_reason": request.override_reason},
    )
    return request


@transaction.atomic
def approve(request: PublishRequest, user, *, comment: str = "") -> FlowVersion:
    request = _locked(request)
    if request.requested_by_id is not None and request.requested_by_id == getattr(user, "pk", None):
        raise FourEyesRefused("approver", "you asked for this publish: a second person has to approve it")
    draft = services.draft_of(request.flow)
    if draft.content_hash != request.content_hash:
        raise FourEyesRefused("draft", "the draft changed after the request: its author has to request again")
    version = services.publish(request.flow, user, notes=request.notes)
    request.state, request.version = PublishRequest.State.APPROVED, version
    _decide(request, user, comment, "flow.publish.approve", message=f"v{version.number}")
    return version


@transaction.atomic
def reject(request: PublishRequest, user, *, comment: str) -> PublishRequest:
    request = _locked(request)
    if not comment.strip():
        raise FourEyesRefused("comment", "say why the publish is rejected")
    request.state = PublishRequest.State.REJECTED
    _decide(request, user, comment, "flow.publish.reject")
    return request


@transaction.atomic
def withdraw(request: PublishRequest, user) -> PublishRequest:
    """Only the person who asked may withdraw; anyone else rejects, with a reason."""
    request = _locked(request)
    if request.requested_by_id != getattr(user, "pk", None):
        raise FourEyesRefused("request", "only the person who asked can withdraw this request; reject it instead")
    request.state = PublishRequest.State.WITHDRAWN
    _decide(request, user, "", "flow.publish.withdraw")
    return request


def _locked(request: PublishRequest) -> PublishRequest:
    locked = PublishRequest.objects.select_for_update().select_related("flow").get(pk=request.pk)
    if locked.state != PublishRequest.State.PENDING:
        raise FourEyesRefused("request", f"this request is already {locked.get_state_display().lower()}")
    return locked


def _decide(request: PublishRequest, user, comment: str, action: str, message: str = "") -> None:
    request.decided_by, request.decided_at, request.comment = services.person(user), timezone.now(), comment.strip()
    request.save()
    audit.record(
        user,
        action,
        request.flow,
        after={"request": request.pk, "state": request.state, "comment": request.comment},
        message=message,
    )
