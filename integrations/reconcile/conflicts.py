"""Ownership conflicts as exceptions people work (docs/PS_MODEL.md).

The crosswalk holds back a non-owner's change to an owned field and announces it
(crosswalk/hooks.py ownership_conflict); `on_ownership_conflict` opens ONE exception for
the run and step (classification `conflict`, item `conflict:<step>`), its input showing
each field with the owner, the owner's value and the value that was held back.

A person resolves it one of three ways (each audited, with a reason):
- `take_owner_value`: keep the owner's value — nothing is written, the target kept it;
- `take_incoming_value`: write the held-back values to the target after all, through the
  ledger (its own idempotency key, so a double click writes once);
- `change_rule`: make the source system the owner of those fields, then write them."""

from django.db import transaction

from integrations.audit import services as audit
from integrations.connections.models import Connection
from integrations.crosswalk import ownership
from integrations.deliveries import services as ledger
from integrations.runs.choices import Classification
from integrations.runs.inbox import actions
from integrations.runs.inbox.opening import open_exception
from integrations.runs.models import RunException

CONFLICT = Classification.CONFLICT
KIND = "ownership"
CHOICES = ("owner", "incoming", "rule")


def item_of(step_id: str) -> str:
    return f"conflict:{step_id}"[:64]


def on_ownership_conflict(run, step_id: str, held, **_) -> RunException:
    """Idempotent: the step executes again when its run resumes; the exception opens once."""
    existing = RunException.objects.filter(run=run, item=item_of(step_id), classification=CONFLICT).first()
    if existing is not None:
        return existing
    return open_exception(
        run,
        step_id=step_id,
        classification=CONFLICT,
        kind=KIND,
        message=describe(held),
        field=held.conflicts[0].canonical_field,
        original_input=held.as_dict(),
        item=item_of(step_id),
    )


def describe(held) -> str:
    parts = []
    for c in held.conflicts:
        owner_value = c.owner_value if c.owner_known else "not seen yet"
        parts.append(
            f"{c.canonical_field} is owned by {c.owner.upper()} ({owner_value}); {held.source} sent {c.incoming}"
        )
    subject = f"{held.object} {held.canonical_id or '(not linked yet)'}"
    return f"Ownership conflict on {subject}: " + "; ".join(parts) + f" — not written to {held.target}."


class ResolutionInvalid(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@transaction.atomic
def resolve(exc: RunException, user, choice: str, reason: str) -> RunException:
    """Resolve a conflict exception by `choice` ('owner', 'incoming' or 'rule')."""
    if exc.classification != CONFLICT:
        raise ResolutionInvalid("exception", "this exception is not an ownership conflict")
    if choice not in CHOICES:
        raise ResolutionInvalid("choice", f"choose one of {', '.join(CHOICES)}")
    if not (reason or "").strip():
        raise ResolutionInvalid("reason", "say why")
    held = exc.original_input or {}
    if choice == "rule":
        for c in held.get("conflicts", []):
            ownership.set_owner(user, held["object"], c["canonical_field"], held["source_role"], reason=reason)
    if choice in ("incoming", "rule"):
        _write_incoming(exc, held)
    summary = {"owner": "kept the owner's value", "incoming": "wrote the incoming value",
               "rule": "changed the rule and wrote the incoming value"}[choice]  # fmt: skip
    closed = actions.resolve(exc, user, f"{summary}: {reason.strip()}")
    audit.record(user, "ownership.conflict_" + choice, closed, after={"choice": choice}, message=reason.strip()[:500])
    return closed


def _write_incoming(exc: RunException, held: dict) -> None:
    if held.get("action") == "create":
        raise ResolutionInvalid("choice", "the write was a create: re-run the flow instead of patching a new record")
    connection = Connection.objects.filter(name=held.get("target", "")).first()
    if connection is None:
        raise ResolutionInvalid("target", f"connection '{held.get('target')}' no longer exists")
    payload = {c["field"]: c["incoming"] for c in held.get("conflicts", [])}
    if held.get("external_id_field"):
        payload[held["external_id_field"]] = held.get("external_id")
    try:
        ledger.request_delivery(
            run=None,
            step_id=exc.step_id,
            connection=connection,
            object=held["target_object"],
            action=held["action"],
            key=f"{held['key']}:conflict-{exc.pk}"[:255],
            payload=payload,
            external_id_field=held.get("external_id_field"),
            external_id=held.get("external_id"),
        )
    except ledger.DeliveryError as err:
        raise ResolutionInvalid(err.field, err.message) from err
