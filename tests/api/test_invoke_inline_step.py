"""`"inline": true` on one deliver step: the invoke API posts that step within the request
while the flow as a whole (invoke_delivers_inline off) queues its other deliveries."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from integrations.deliveries.models import Delivery
from integrations.flows.services import DraftInvalid
from tests.api.runtime_fixtures import crm, doorbells, erp, sim  # noqa: F401
from tests.api.test_invoke_api import RATE_CHECK, URL
from tests.runtime.conftest import publish_flow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_caches():
    from integrations.runs.invoke import forget

    forget()


def deliver(step_id: str, key: str, **extra) -> dict:
    return {"id": step_id, "type": "deliver", "connection": "erp", "object": "postings", "action": "create",
            "key": key, "external_id_field": "external_ref", "external_id": key, **extra}  # fmt: skip


def test_a_step_marked_inline_posts_in_the_request_the_others_queue(personas, crm, erp, sim, doorbells):  # noqa: F811
    now = deliver("now", "now:{{ record.role }}", inline=True)
    definition = {**RATE_CHECK, "steps": [*RATE_CHECK["steps"], now, deliver("later", "later:{{ record.role }}")]}
    flow = publish_flow(personas["analyst"], definition, key="rates")
    assert flow.invoke_delivers_inline is False
    key = Token.objects.get_or_create(user=personas["operator"])[0].key
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.post(URL, {"role": "pm", "hourly_rate": 90}, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    [done] = body["delivered"]
    assert done["key"] == "now:pm" and done["remote_id"]
    assert [q["key"] for q in body["queued"]] == ["later:pm"]
    assert [p["external_ref"] for p in sim.postings()] == ["now:pm"]  # only the inline step posted
    states = dict(Delivery.objects.values_list("idempotency_key", "state"))
    assert states["now:pm"] == "SUCCEEDED" and states["later:pm"] == "PENDING"


def test_inline_must_be_a_boolean(personas, crm, erp):  # noqa: F811
    definition = {**RATE_CHECK, "steps": [*RATE_CHECK["steps"], deliver("now", "now:x", inline="yes")]}
    with pytest.raises(DraftInvalid) as error:
        publish_flow(personas["analyst"], definition, key="rates")
    [problem] = error.value.errors
    assert problem["step_id"] == "now" and "inline" in problem["field"], problem
