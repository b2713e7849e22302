"""The API's foundation: authentication, `me/`, the schema and JSON problem errors."""

import json
import re

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from integrations.audit.models import AuditEntry

PROBLEM = "application/problem+json"
ME = "/api/v1/me/"


def assert_problem(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"].startswith("urn:")
    return body


def test_me_lists_roles_and_capabilities(client_for):
    body = client_for("approver").get(ME).json()
    assert body["username"] == "approver"
    assert body["roles"] == ["Approver"]
    assert "decide_approvals" in body["capabilities"] and "edit_flows" not in body["capabilities"]


def test_unauthenticated_gets_401_json_naming_the_scheme(client, db):
    body = assert_problem(client.get(ME), 401)
    assert "credentials" in body["detail"].lower()
    assert client.get(ME)["WWW-Authenticate"].startswith("Token")


def test_token_from_create_token_authenticates(client, personas, capsys):
    call_command("create_token", "operator")
    key = capsys.readouterr().out.strip()
    assert key == Token.objects.get(user=personas["operator"]).key
    response = client.get(ME, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200 and response.json()["username"] == "operator"


def test_wrong_token_is_401(client, db):
    assert_problem(client.get(ME, HTTP_AUTHORIZATION="Token not-a-key"), 401)


def test_bad_json_is_400_not_500(client_for):
    response = client_for("viewer").patch(ME, data="{not json", content_type="application/json")
    body = assert_problem(response, 400)
    assert "JSON parse error" in body["detail"]


def test_wrong_types_name_the_field(client_for, personas):
    c = client_for("viewer")
    response = c.patch(
        ME, data=json.dumps({"email": "not an email", "first_name": "x" * 500}), content_type="application/json"
    )
    body = assert_problem(response, 400)
    assert set(body["errors"]) == {"email", "first_name"}
    assert "email" in body["detail"]
    personas["viewer"].refresh_from_db()
    assert personas["viewer"].first_name == ""  # nothing half-written


def test_profile_edit_is_saved_and_audited(client_for, personas):
    response = client_for("viewer").patch(ME, data={"first_name": "Vera"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["first_name"] == "Vera"
    entry = AuditEntry.objects.get(action="user.update_profile")
    assert entry.actor == personas["viewer"] and entry.changes == {"first_name": ["", "Vera"]}


def test_unknown_endpoint_is_json_404(client_for):
    body = assert_problem(client_for("viewer").get("/api/v1/no-such-thing/"), 404)
    assert "/api/v1/no-such-thing/" in body["detail"]


def test_unknown_endpoint_anonymous_is_json_too(client, db):
    assert_problem(client.get("/api/v1/no-such-thing/"), 404)


def test_wrong_method_is_json_405(client_for):
    response = client_for("viewer").delete(ME)
    assert_problem(response, 405)
    assert "GET" in response["Allow"]


def test_server_error_under_api_is_json(client_for, monkeypatch):
    from studio.api.views import auth

    def boom(self, request):
        raise RuntimeError("bug")

    monkeypatch.setattr(auth.MeView, "get", boom)
    c = client_for("viewer")
    c.raise_request_exception = False
    body = assert_problem(c.get(ME), 500)
    assert "bug" not in body["detail"]


def test_html_pages_keep_html_errors(client_for):
    response = client_for("viewer").get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_schema_renders_and_validates(client, db):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.") and "/api/v1/me/" in schema["paths"]
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_docs_page_uses_local_swagger_assets(client, db):
    html = client.get("/api/v1/docs/").content.decode()
    assert "swagger-ui" in html
    # No asset from another host (a random CSRF token may spell "cdn", so look at addresses).
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    assert "/static/drf_spectacular_sidecar/" in html


@pytest.mark.parametrize("username", ["nobody"])
def test_create_token_for_unknown_user_fails_clearly(db, username):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="nobody"):
        call_command("create_token", username)
