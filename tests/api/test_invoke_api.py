"""POST /api/v1/flows/<key>/invoke: map, validate and route inline; 200 with the result,
422 with every validation error by field, 409 when the flow cannot answer at once."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from integrations.deliveries.models import Delivery
from integrations.flows.services import set_status
from integrations.runs.models import Run
from tests.api.runtime_fixtures import *  # noqa: F403
from tests.api.runtime_fixtures import problem_fields
from tests.api.wsgi_client import WsgiClient
from tests.runtime.conftest import publish_flow

pytestmark = pytest.mark.django_db
URL = "/api/v1/flows/rates/invoke"

RATE_CHECK = {
    "trigger": {"type": "manual"},
    "steps": [
        {
            "id": "shape",
            "type": "map",
            "fields": [
                {"to": "role", "from": "$.role", "required": True},
                {"to": "rate", "from": "$.hourly_rate", "required": True},
                {"to": "currency", "from": "$.currency", "default": "EUR"},
            ],
        },
        {
            "id": "check",
            "type": "validate",
            "rules": [
                {"when": "record.rate <= 0", "message": "the rate must be positive", "field": "rate"},
                {"when": "record.currency not in ['EUR', 'USD']", "message": "EUR or USD only", "field": "currency"},
            ],
        },
        {
            "id": "tier",
            "type": "route",
            "rules": [{"name": "senior_rate", "when": "record.rate >= 200", "to": "senior"}],
            "otherwise": "standard",
        },
        {"id": "senior", "type": "map", "merge": True, "fields": [{"to": "tier", "constant": "senior"}]},
        {"id": "standard", "type": "map", "merge": True, "fields": [{"to": "tier", "constant": "standard"}]},
    ],
}


@pytest.fixture(autouse=True)
def fresh_caches():
    """The invoke path caches flows and grants for 2 s per process; each test starts clean."""
    from integrations.runs.invoke import forget
    from studio.api import token_grants
    from studio.api.views.invoke import _granted

    forget()
    _granted.clear()
    token_grants.forget()


@pytest.fixture(params=["django", "gateway"])
def entry(request):
    """Every test runs twice: through Django's request cycle (the test client) and through
    the WSGI application a server runs, where the invoke gateway answers first."""
    return request.param


@pytest.fixture
def token_client(entry, personas):
    def build(name: str):
        key = Token.objects.get_or_create(user=personas[name])[0].key
        return (
            Client(HTTP_AUTHORIZATION=f"Token {key}")
            if entry == "django"
            else WsgiClient(HTTP_AUTHORIZATION=f"Token {key}")
        )

    return build


@pytest.fixture
def client(entry):
    return Client() if entry == "django" else WsgiClient()


@pytest.fixture
def rates(personas, doorbells):
    return publish_flow(personas["analyst"], RATE_CHECK, key="rates")


def test_a_valid_record_is_answered_at_once(token_client, rates):
    response = token_client("operator").post(
        URL, {"role": "architect", "hourly_rate": 240}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "completed"
    assert body["record"] == {"role": "architect", "rate": 240, "currency": "EUR", "tier": "senior"}
    assert Run.objects.count() == 0  # nothing stored for a synchronous call


def test_validation_errors_are_422_naming_every_field(token_client, rates):
    response = token_client("operator").post(
        URL, {"role": "dev", "hourly_rate": -5, "currency": "GBP"}, content_type="application/json"
    )
    assert response.status_code == 422
    errors = problem_fields(response)
    assert errors == {"rate": ["the rate must be positive"], "currency": ["EUR or USD only"]}


def test_a_missing_required_field_is_422(token_client, rates):
    response = token_client("operator").post(URL, {"hourly_rate": 100}, content_type="application/json")
    assert response.status_code == 422 and problem_fields(response)


def test_a_body_that_is_not_an_object_is_400(token_client, rates):
    response = token_client("operator").post(URL, [1, 2], content_type="application/json")
    assert response.status_code == 400 and "record" in problem_fields(response)


def test_refusals(client, token_client, rates, personas):
    assert client.post(URL, {}, content_type="application/json").status_code == 401
    assert token_client("viewer").post(URL, {}, content_type="application/json").status_code == 403
    assert (
        token_client("operator").post("/api/v1/flows/nope/invoke", {}, content_type="application/json").status_code
        == 404
    )
    set_status(rates, personas["analyst"], "paused")
    assert (
        token_client("operator").post(URL, {"role": "a", "hourly_rate": 1}, content_type="application/json").status_code
        == 409
    )


def test_a_deliver_step_is_queued_in_the_ledger(token_client, personas, crm, erp_offline, doorbells):
    definition = {
        **RATE_CHECK,
        "steps": [
            *RATE_CHECK["steps"],
            {
                "id": "post",
                "type": "deliver",
                "connection": "erp",
                "object": "rates",
                "action": "upsert",
                "key": "rate:{{ record.role }}",
            },
        ],
    }
    publish_flow(personas["analyst"], definition, key="rates")
    api = token_client("operator")
    for _ in range(2):
        response = api.post(URL, {"role": "pm", "hourly_rate": 90}, content_type="application/json")
        assert response.status_code == 200 and response.json()["queued"][0]["key"] == "rate:pm"
    assert Delivery.objects.get().payload == {"role": "pm", "rate": 90, "currency": "EUR", "tier": "standard"}


def test_a_flow_that_says_so_delivers_inline_and_answers_with_the_remote_id(
    token_client, personas, crm, erp, sim, doorbells
):
    definition = {**RATE_CHECK, "steps": [*RATE_CHECK["steps"], {
        "id": "post", "type": "deliver", "connection": "erp", "object": "postings", "action": "create",
        "key": "rate:{{ record.role }}", "external_id_field": "external_ref",
        "external_id": "rate:{{ record.role }}"}]}  # fmt: skip
    publish_flow(personas["analyst"], definition, key="rates")
    analyst = token_client("analyst")
    response = analyst.patch("/api/v1/flows/rates/", {"invoke_delivers_inline": True, "key": "renamed"},
                             content_type="application/json")  # fmt: skip
    assert response.status_code == 200 and response.json()["key"] == "rates"  # the key cannot change
    api = token_client("operator")
    for _ in range(2):  # the same key twice: posted once, answered from the ledger the second time
        response = api.post(URL, {"role": "pm", "hourly_rate": 90}, content_type="application/json")
        assert response.status_code == 200, response.content
        assert response.json()["queued"] == []
        [done] = response.json()["delivered"]
        assert done["key"] == "rate:pm" and done["remote_id"]
    assert [p["external_ref"] for p in sim.postings()] == ["rate:pm"]
    assert Delivery.objects.get().state == "SUCCEEDED"
