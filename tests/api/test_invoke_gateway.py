"""The invoke gateway (studio/api/invoke_gateway.py) answers token calls of
`POST /api/v1/flows/<key>/invoke` before Django's request cycle. What it does not own must
reach Django unchanged and get Django's answer; what it answers must be as safe as Django's."""

import pytest
from django.test import override_settings
from rest_framework.authtoken.models import Token

from integrations.runs.invoke import forget
from studio.api import token_grants
from tests.api.runtime_fixtures import PROBLEM, problem_fields
from tests.api.test_invoke_api import RATE_CHECK
from tests.api.wsgi_client import WsgiClient
from tests.runtime.conftest import publish_flow

pytestmark = pytest.mark.django_db
URL = "/api/v1/flows/rates/invoke"
RECORD = {"role": "architect", "hourly_rate": 240}


@pytest.fixture(autouse=True)
def fresh_caches():
    from studio.api.views.invoke import _granted

    forget()
    token_grants.forget()
    _granted.clear()


@pytest.fixture
def rates(personas):
    return publish_flow(personas["analyst"], RATE_CHECK, key="rates")


@pytest.fixture
def operator(personas):
    token = Token.objects.get_or_create(user=personas["operator"])[0]
    return token, WsgiClient(HTTP_AUTHORIZATION=f"Token {token.key}")


def test_a_warm_call_is_answered_without_a_database_query(rates, operator, django_assert_num_queries):
    _, api = operator
    assert api.post(URL, RECORD).status_code == 200  # the first call looks the token and the flow up
    with django_assert_num_queries(0):
        response = api.post(URL, RECORD)
    assert response.status_code == 200
    assert response.json()["record"]["tier"] == "senior"
    # the headers Django's security middleware would have set
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Type"] == "application/json"


def test_a_deleted_token_or_a_deactivated_user_is_refused_at_once(rates, operator, personas):
    token, api = operator
    assert api.post(URL, RECORD).status_code == 200
    user = personas["operator"]
    user.is_active = False
    user.save()
    assert api.post(URL, RECORD).status_code == 401
    user.is_active = True
    user.save()
    assert api.post(URL, RECORD).status_code == 200
    token.delete()
    assert api.post(URL, RECORD).status_code == 401


def test_losing_the_role_is_refused_at_once(rates, operator, personas):
    _, api = operator
    assert api.post(URL, RECORD).status_code == 200
    personas["operator"].groups.clear()
    assert api.post(URL, RECORD).status_code == 403


@pytest.mark.parametrize(
    "body, field",
    [(b'{"role": "a", "hourly_rate": NaN}', None), (b'{"role": ', None), (b"[1, 2]", "record")],
    ids=["nan", "truncated", "array"],
)
def test_a_body_that_is_not_a_json_object_gets_djangos_400(rates, operator, body, field):
    _, api = operator
    response = api.post(URL, body)
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM
    if field:
        assert field in problem_fields(response)


def test_an_unknown_host_is_refused_as_django_does(rates, operator):
    _, api = operator
    assert api.post(URL, RECORD, HTTP_HOST="evil.example").status_code == 400


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=64)
def test_a_body_over_the_upload_limit_is_refused(rates, operator):
    _, api = operator
    response = api.post(URL, {**RECORD, "notes": "x" * 100})
    assert response.status_code == 413 and response["Content-Type"] == PROBLEM
    assert "the limit is 64 bytes" in response.json()["detail"]


@override_settings(SECURE_SSL_REDIRECT=True)
def test_plain_http_is_redirected_where_https_is_required(rates, operator):
    token, _ = operator  # Django's middleware reads the setting when it is built
    api = WsgiClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.post(URL, RECORD)
    assert response.status_code == 301 and response["Location"].startswith("https://")
    assert api.post(URL, RECORD, **{"wsgi.url_scheme": "https"}).status_code == 200


def test_an_unexpected_error_is_a_logged_500_problem(rates, operator, monkeypatch, caplog):
    from studio.api import invoke_gateway

    def broken(version, record):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(invoke_gateway, "answer", broken)
    _, api = operator
    response = api.post(URL, RECORD)
    assert response.status_code == 500 and response["Content-Type"] == PROBLEM
    assert "engine bug" not in response.content.decode()  # no internals to the caller
    assert "engine bug" in caplog.text


def test_other_requests_pass_through_to_django(rates, operator):
    _, api = operator
    response = api.patch("/api/v1/flows/rates/", {"name": "x"})
    assert response.status_code == 403  # an operator may not edit flows: Django's answer
    assert api.post("/api/v1/flows/nope/invoke", RECORD).status_code == 404


def test_the_server_entry_point_puts_the_gateway_in_front_only_when_switched_on():
    import importlib

    import studio.wsgi
    from studio.api.invoke_gateway import InvokeGateway

    assert isinstance(studio.wsgi.application, InvokeGateway)
    with override_settings(SWITCHBOARD_INVOKE_GATEWAY=False):
        assert not isinstance(importlib.reload(studio.wsgi).application, InvokeGateway)
    importlib.reload(studio.wsgi)
