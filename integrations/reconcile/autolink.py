"""Crosswalk links made by deliveries: when a create or upsert of a flow that declares
`canonical` (or a step `link`) succeeds, the id the target returned is linked to the
canonical identity of the source record (docs/FLOW_DEFINITION.md).

The source record's identity is its crosswalk link in the flow's source connection; a
source record seen for the first time gets one (first-contact matching, on the run's
canonical record when the flow mapped one)."""

import logging

from django.db import IntegrityError, transaction

from integrations.crosswalk import declaration
from integrations.crosswalk.matching import first_contact
from integrations.crosswalk.models import LinkSource
from integrations.crosswalk.services import link
from integrations.deliveries.models import Delivery

LINKING_ACTIONS = ("create", "upsert")
log = logging.getLogger(__name__)


def on_delivery_finished(delivery_id: int, delivery: Delivery | None = None, **_) -> None:
    """deliveries/hooks.py, after the commit that ended the delivery. `delivery`, when the
    ledger passes it, is the row as written: what it says alone decides most deliveries."""
    if delivery is not None and not _may_link(delivery):
        return
    if delivery is None or not (Delivery.run.is_cached(delivery) and Delivery.connection.is_cached(delivery)):
        delivery = Delivery.objects.select_related("run__flow_version", "connection").get(pk=delivery_id)
    if not _may_link(delivery) or delivery.run is None or not declares_link(delivery):
        return
    try:
        with transaction.atomic():
            link_delivery(delivery)
    except IntegrityError:
        # The identity already has another id in that system: a person decides on the
        # crosswalk page. Never fail the ledger's hook (it runs after the delivery's commit).
        log.warning("delivery %s: remote id %s not linked, its identity has another id in %s",
                    delivery.pk, delivery.remote_id, delivery.connection.name)  # fmt: skip


def on_deliveries_succeeded(deliveries: list[Delivery], **_) -> None:
    """deliveries/hooks.py: a worker round's successes, each linked as on its own."""
    for delivery in deliveries:
        on_delivery_finished(delivery.pk, delivery)


def _may_link(delivery: Delivery) -> bool:
    return (
        str(delivery.state).upper() == "SUCCEEDED"
        and bool(delivery.remote_id)
        and delivery.run_id is not None
        and delivery.action in LINKING_ACTIONS
    )


def declares_link(delivery) -> bool:
    """The flow of the delivery's run links what this step writes (read before any transaction)."""
    definition = delivery.run.flow_version.definition
    target = declaration.link_of(definition, delivery.step_id)
    return target is not None and declaration.declared(definition) is not None


def link_delivery(delivery) -> str | None:
    """Link the delivery's remote id; the canonical id, or None when nothing is declared."""
    run = delivery.run
    definition = run.flow_version.definition
    target = declaration.link_of(definition, delivery.step_id)
    decl = declaration.declared(definition)
    if target is None or decl is None:
        return None
    object, path = target
    source_id = declaration.value_at(path, run.record)
    if not source_id:
        return None
    canonical = first_contact(object, decl.source, source_id, canonical_record(run), run_id=run.pk).canonical_id
    made = link(object, delivery.connection.name, delivery.remote_id, canonical, source=LinkSource.DELIVERY,
                run_id=run.pk)  # fmt: skip
    return made.canonical_id


def canonical_record(run) -> dict:
    """The attributes first-contact matching reads (employee_number, email, tax_id, name…):
    the run's record as the flow left it when it is a mapping, else its input."""
    output = run.output if isinstance(run.output, dict) else {}
    record = output.get("record")
    return record if isinstance(record, dict) else (run.record if isinstance(run.record, dict) else {})
