"""Synchronous invocation of a published flow (POST /api/v1/flows/<key>/invoke).

Maps, validates and routes inline and answers at once. A deliver step posts inline only
when the flow says so (`Flow.invoke_delivers_inline`, or `"inline": true` on the step once
the definition schema allows it): the delivery still goes through the
ledger (so a repeated call with the same key never posts twice) and is sent in this
request. Other deliver steps are queued in the ledger and reported as queued. Approval
and batch steps cannot be answered synchronously."""

import time
from dataclasses import dataclass

import orjson
from django.db import transaction

from integrations.deliveries.models import Delivery
from integrations.deliveries.sender import deliver_one
from integrations.flows import engine_api
from integrations.flows.engine_api import PENDING, DeliveryResult, EffectError, step_id_of
from integrations.flows.models import FlowVersion
from integrations.flows.outcome_json import error_dict, jsonable
from integrations.runs.effects import RuntimeEffects


class NotInvocable(Exception):
    pass


class InvokeEffects(RuntimeEffects):
    def __init__(self, inline: bool = False):
        super().__init__(run=None)
        self.inline = inline
        self.queued: list[dict] = []

    def deliver(self, step, request):
        result = super().deliver(step, request)
        if result is not PENDING:
            return result
        delivery_id = self.pending_delivery_ids.pop()
        if not (self.inline or step.raw.get("inline")):
            self.queued.append({"step_id": step_id_of(step), "delivery": delivery_id, "key": request.key})
            return DeliveryResult(status="succeeded", response="queued")
        deliver_one(delivery_id)
        delivery = Delivery.objects.get(pk=delivery_id)
        if str(delivery.state).upper() == "SUCCEEDED":
            return DeliveryResult(status="succeeded", remote_id=delivery.remote_id or None)
        raise EffectError(delivery.last_error or "the delivery did not succeed", transient=delivery.state != "DEAD")

    def approve(self, step, request):
        raise NotInvocable(f"step '{request.step_id}' waits for an approval; use the event API for this flow")

    def batch(self, step, group_key, record):
        raise NotInvocable(f"step '{step_id_of(step)}' collects a batch; use the event API for this flow")


# Synchronous calls are hot: the flow's live version is looked up once per CACHE_SECONDS per
# process, so a publish or a pause reaches every web process within that time.
CACHE_SECONDS = 2.0
_live: dict[str, tuple[float, object]] = {}


def forget(key: str | None = None) -> None:
    """Drop cached lookups (all, or one flow's)."""
    if key is None:
        _live.clear()
    else:
        _live.pop(key, None)


def forget_on_commit(flow, **_) -> None:
    """flows/hooks.py: a publish, pause or settings change drops this process's cached
    lookup of the flow once it commits (other processes within CACHE_SECONDS)."""
    key = flow.key
    transaction.on_commit(lambda: forget(key))


def live_version(key: str):
    """(flow status, live version) of a flow, or None when there is no such flow."""
    now = time.monotonic()
    hit = _live.get(key)
    if hit and hit[0] > now:
        return hit[1]
    version = (
        FlowVersion.objects.filter(flow__key=key, state="published").select_related("flow").order_by("-number").first()
    )
    found = (version.flow.status, version) if version else None
    _live[key] = (now + CACHE_SECONDS, found)
    return found


# orjson would write datetimes, dataclasses and str/int subclasses its own way; refusing them
# sends such values down the general path, which writes them as the rest of the runtime does.
_PLAIN_ONLY = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def plain_json(value):
    """`jsonable` for the hot path: orjson round-trips plain JSON about ten times faster and
    refuses what it cannot represent the same way (ints over 64 bits, non-string keys, dates,
    Decimals, subclasses), which then take the general path."""
    try:
        return orjson.loads(orjson.dumps(value, option=_PLAIN_ONLY))
    except TypeError:
        return jsonable(value)


@dataclass
class Invoked:
    status: str  # completed | halted | failed
    record: object
    error: dict | None
    queued: list
    steps: list
    delivered: list


def invoke(version, record: dict) -> Invoked:
    if isinstance(version.definition.get("for_each"), dict):
        raise NotInvocable(
            f"flow '{version.flow.key}' runs a page of records in chunks (for_each); send the page to the event API"
        )
    plan = engine_api.plan_for(version)
    effects = InvokeEffects(inline=version.flow.invoke_delivers_inline)
    outcome = engine_api.run(plan, record, effects)
    state = outcome.state or {}
    steps = [{"step_id": s.step_id, "status": s.status, "duration_ms": s.duration_ms} for s in outcome.steps]
    queued = {q["step_id"] for q in effects.queued}
    delivered = [
        {"step_id": s.step_id, "key": s.output.get("key"), "remote_id": s.output.get("remote_id")}
        for s in outcome.steps
        if s.type == "deliver" and s.status == "succeeded" and isinstance(s.output, dict) and s.step_id not in queued
    ]
    record = plain_json(state.get("record"))
    return Invoked(outcome.status, record, error_dict(outcome.error), effects.queued, steps, delivered)
