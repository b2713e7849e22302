"""Salesforce auth as the vendor documents it: client credentials only on the My Domain
host, the JWT bearer flow, the username-password flow flagged as deprecated, and the
connection test's named checks."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from integrations.connectors.salesforce import SalesforceConnector
from integrations.connectors.salesforce_auth import jwt_assertion
from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.salesforce import VENDOR
from integrations.sandboxes.salesforce.jwt_grant import private_key_pem
from integrations.sandboxes.salesforce.seed import seed
from tests.connectors.contract import make_connection
from tests.connectors.shapes import refusal

pytestmark = pytest.mark.django_db(transaction=True)


def connector(origin: str, *, config: dict | None = None, base: str = "", **secrets) -> SalesforceConnector:
    creds = sandbox_credentials(VENDOR)
    connection = make_connection(VENDOR, f"{origin}/sandbox/{VENDOR}{base}", {"client_id": creds["client_id"],
                                 **(config or {})}, {"client_secret": creds["client_secret"], **secrets})  # fmt: skip
    return SalesforceConnector(connection)


def jwt_connector(origin: str, **config) -> SalesforceConnector:
    creds = sandbox_credentials(VENDOR)
    login = f"{origin}/sandbox/{VENDOR}/login"
    settings = {"grant_type": "jwt_bearer", "username": creds["username"], "jwt_audience": login,
                "token_url": f"{login}/services/oauth2/token", **config}  # fmt: skip
    return connector(origin, config=settings, private_key=private_key_pem())


def test_client_credentials_at_the_generic_login_host_are_refused_by_connector_and_sandbox(sandbox_origin):
    login = f"{sandbox_origin}/sandbox/{VENDOR}/login/services/oauth2/token"
    error = refusal(connector(sandbox_origin, config={"token_url": login}).check)
    assert error.kind == "permanent" and error.vendor_code == "MY_DOMAIN_REQUIRED" and "My Domain" in error.message
    assert "token_url" in SalesforceConnector.validate_config(
        {"grant_type": "client_credentials", "token_url": "https://login.salesforce.com/services/oauth2/token"}
    )
    creds = sandbox_credentials(VENDOR)
    form = {
        "grant_type": "client_credentials",
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
    }
    answer = httpx.post(login, data=form)
    assert answer.status_code == 400 and answer.json()["error_description"] == "request not supported on this domain"
    # The org's My Domain host takes the same grant.
    assert httpx.post(f"{sandbox_origin}/sandbox/{VENDOR}/services/oauth2/token", data=form).status_code == 200


def test_jwt_bearer_flow_gets_a_token_that_reads_data(sandbox_origin):
    seed("test")
    conn = jwt_connector(sandbox_origin)
    assert conn.soql("SELECT Id FROM Account LIMIT 1")
    assert conn.authenticate().extra["instance_url"].endswith(f"/sandbox/{VENDOR}")


@pytest.mark.parametrize(
    ("change", "description"),
    [
        ({"jwt_audience": "https://example.com"}, "audience is invalid"),
        ({"username": "someone.else@example.com"}, "user hasn't approved this consumer"),
    ],
)
def test_jwt_bearer_with_wrong_claims_is_refused_with_salesforce_text(sandbox_origin, change, description):
    error = refusal(jwt_connector(sandbox_origin, **change).check)
    assert error.kind == "permanent" and error.vendor_code in ("invalid_grant", "invalid_client_id")
    assert description in error.message


def test_jwt_signed_with_another_key_is_an_invalid_assertion(sandbox_origin):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    creds = sandbox_credentials(VENDOR)
    assertion = jwt_assertion(other.decode(), client_id=creds["client_id"], username=creds["username"],
                              audience="https://login.salesforce.com")  # fmt: skip
    answer = httpx.post(
        f"{sandbox_origin}/sandbox/{VENDOR}/login/services/oauth2/token",
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
    )
    assert answer.status_code == 400 and answer.json() == {
        "error": "invalid_grant",
        "error_description": "invalid assertion",
    }


def test_an_expired_or_far_future_assertion_is_refused(sandbox_origin):
    creds = sandbox_credentials(VENDOR)
    for now in (0.0, 4_000_000_000.0):
        assertion = jwt_assertion(private_key_pem(), client_id=creds["client_id"], username=creds["username"],
                                  audience="https://login.salesforce.com", now=now)  # fmt: skip
        answer = httpx.post(
            f"{sandbox_origin}/sandbox/{VENDOR}/services/oauth2/token",
            data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
        )
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_a_key_that_is_not_pem_is_a_clear_permanent_error(sandbox_origin):
    conn = connector(sandbox_origin, config={"grant_type": "jwt_bearer", "username": "u"}, private_key="not a key")
    error = refusal(conn.check)
    assert error.kind == "permanent" and "PEM" in error.message


def test_connection_test_names_token_api_version_and_permissions(sandbox_origin):
    seed("test")
    result = connector(sandbox_origin).test()
    assert result.ok, result.message
    names = [c.name for c in result.checks]
    assert names == ["Token", "API version", "API access", "Opportunity access", "Account access"]
    assert all(c.ok for c in result.checks)
    assert "v62.0" in result.checks[1].detail and "daily API requests left" in result.checks[2].detail


def test_connection_test_flags_the_deprecated_password_grant_and_a_missing_api_version(sandbox_origin):
    seed("test")
    creds = sandbox_credentials(VENDOR)
    conn = connector(sandbox_origin, config={"grant_type": "password", "username": creds["username"],
                                             "api_version": "v31.0"}, password=creds["password"])  # fmt: skip
    result = conn.test()
    checks = {c.name: c for c in result.checks}
    assert checks["Token"].ok and not checks["Grant type"].ok and "retiring" in checks["Grant type"].detail
    assert not checks["API version"].ok and "v62.0" in checks["API version"].detail
    assert not result.ok and result.message == checks["API version"].detail


def test_connection_test_without_a_token_says_which_grant_failed(sandbox_origin):
    result = connector(sandbox_origin, client_secret="wrong").test()
    assert not result.ok and [c.name for c in result.checks] == ["Token"]
    assert "client_credentials" in result.checks[0].detail and "invalid client credentials" in result.checks[0].detail
