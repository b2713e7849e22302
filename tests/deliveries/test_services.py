"""request_delivery and retry_delivery: idempotency per key, bad input, retry rules, audit."""

import pytest
from reliability.harness import request_postings

from integrations.audit.models import AuditEntry
from integrations.deliveries.choices import DeliveryState, Outcome
from integrations.deliveries.models import Delivery
from integrations.deliveries.sender import deliver_one
from integrations.deliveries.services import DeliveryConflict, DeliveryError, request_delivery, retry_delivery


def test_request_is_idempotent_per_key(erp):
    first = request_postings(erp, 1)[0]
    again = request_delivery(
        run=None, step_id="x", connection=erp, object="postings", action="create", key="inv:0", payload={"other": 1}
    )
    assert again.pk == first.pk and again.payload == first.payload
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"action": "delete"}, "action"),
        ({"key": ""}, "key"),
        ({"key": "k" * 256}, "key"),
        ({"payload": [1]}, "payload"),
    ],
)
def test_bad_request_names_the_field_and_writes_nothing(erp, changes, field):
    args = dict(run=None, step_id="s", connection=erp, object="postings", action="create", key="k", payload={})
    with pytest.raises(DeliveryError) as caught:
        request_delivery(**{**args, **changes})
    assert caught.value.field == field
    assert not Delivery.objects.exists()


def test_retry_of_a_live_delivery_is_a_conflict(erp):
    (delivery,) = request_postings(erp, 1)
    with pytest.raises(DeliveryConflict):
        retry_delivery(delivery)


def test_edited_retry_posts_under_a_new_key_and_is_audited(erp, simulator, personas):
    simulator.config(script={"inv:0": ["422"]})
    (delivery,) = request_postings(erp, 1)
    assert deliver_one(delivery.pk) == Outcome.DEAD
    admin = personas["admin"]
    retried = retry_delivery(delivery, payload={"amount": 5, "currency": "EUR"}, actor=admin)
    assert retried.state == DeliveryState.PENDING and retried.attempts == 0
    assert retried.send_key == "inv:0:r1" and retried.original_payload == {"amount": 0, "currency": "EUR"}
    assert deliver_one(delivery.pk) == Outcome.SUCCEEDED
    (posting,) = simulator.postings()
    assert posting["idempotency_key"] == "inv:0:r1" and posting["amount"] == 5
    actions = list(AuditEntry.objects.filter(object_id=str(delivery.pk)).order_by("id").values_list("action", "actor"))
    assert actions == [
        ("delivery.dead_lettered", None),
        ("delivery.edited", admin.pk),
        ("delivery.retried", admin.pk),
    ]
    edited = AuditEntry.objects.get(action="delivery.edited")
    assert edited.changes == {"amount": [0, 5]}


def test_plain_retry_keeps_the_key(erp, simulator):
    simulator.config(script={"inv:0": ["422"]})
    (delivery,) = request_postings(erp, 1)
    deliver_one(delivery.pk)
    assert retry_delivery(delivery).send_key == "inv:0"
    with pytest.raises(DeliveryError):
        retry_delivery(delivery, new_key_suffix="bad suffix!")
