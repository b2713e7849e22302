"""Fixtures of tests/runtime, shared with the runtime API tests (import them by name)."""

import pytest
from rest_framework.authtoken.models import Token

from tests.runtime.conftest import crm, doorbells, erp, erp_offline, invoice_flow, sim  # noqa: F401

PROBLEM = "application/problem+json"


@pytest.fixture
def token_client(client, personas):
    """token_client('operator') → a client sending that persona's API token."""
    from django.test import Client

    def build(name: str) -> Client:
        key = Token.objects.get_or_create(user=personas[name])[0].key
        return Client(HTTP_AUTHORIZATION=f"Token {key}")

    return build


def problem_fields(response) -> dict:
    assert response["Content-Type"] == PROBLEM, response.content
    return response.json().get("errors") or {}
