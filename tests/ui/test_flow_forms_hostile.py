"""Every field of the flow pages' forms fed hostile input (oversized, NUL, markup, template
syntax, right-to-left marks, bytes that are not UTF-8): a 2xx, 3xx or 4xx answer, never a 500,
and nothing of it breaks the stored draft."""

import pytest

from integrations.connections.models import Connection
from integrations.flows import services

pytestmark = pytest.mark.django_db

HOSTILE = ["x" * 100_000, "\x00", "a\x00b", "<script>alert(1)</script>", "{{ 7*7 }}{% for %}", "\u202e\ufeff", "-1",
           "99999999999999999999", "' OR 1=1 --", "../../etc/passwd", "%ff%fe"]  # fmt: skip
DELIVER = {"id": "post", "type": "deliver", "connection": "erp", "object": "job", "action": "create", "key": "k"}

FORMS = {
    "/flows/new/": ["key", "name", "description", "start_from"],
    "/flows/hx/settings/": ["name", "description", "tags", "owner"],
    "/flows/hx/status/": ["status"],
    "/flows/hx/trigger/": ["mode", "connection", "event", "object", "cron", "timezone", "page_size", "signing_secret",
                           "base"],
    "/flows/hx/steps/add/": ["index", "type", "id"],
    "/flows/hx/steps/move/": ["index", "to", "base"],
    "/flows/hx/steps/delete/": ["index", "base"],
    "/flows/hx/steps/0/": ["id", "when", "connection", "object", "action", "key", "external_id_field", "external_id",
                           "inline", "base"],
    "/flows/hx/publish/": ["notes", "override_reason"],
}  # fmt: skip
QUERIES = {
    "/flows/": ["q", "status", "owner", "tag", "connector", "page"],
    "/flows/hx/": ["step"],
    "/flows/hx/versions/compare/": ["a", "b"],
    "/flows/hx/publish/impact/": ["n"],
    "/flows/hx/trigger/cron/": ["cron", "timezone"],
}
BASE = {
    "/flows/hx/trigger/": {"mode": "poll", "connection": "erp", "cron": "0 * * * *"},
    "/flows/hx/steps/add/": {"index": "0", "type": "validate"},
    "/flows/hx/steps/0/": dict(DELIVER),
    "/flows/hx/publish/": {"notes": "n"},
    "/flows/hx/settings/": {"name": "n"},
    "/flows/new/": {"key": "k", "name": "n"},
}


@pytest.fixture
def flow(personas):
    Connection.objects.create(name="erp", kind="generic_rest", base_url="https://erp.example.com")
    flow = services.create_flow(personas["analyst"], key="hx", name="Hostile")
    services.save_draft(flow, personas["analyst"], {"trigger": {"type": "manual"}, "steps": [DELIVER]}, strict=False)
    return flow


def test_posted_fields(client_for, flow):
    admin = client_for("admin")
    for url, fields in FORMS.items():
        for name in fields:
            for value in HOSTILE:
                data = {**BASE.get(url, {}), name: value}
                response = admin.post(url, data, headers={"HX-Request": "true"})
                assert response.status_code < 500, (url, name, value[:20], response.status_code)
    assert isinstance(services.draft_of(flow).definition.get("steps"), list)


def test_query_strings(client_for, flow):
    viewer = client_for("viewer")
    for url, fields in QUERIES.items():
        for name in fields:
            for value in HOSTILE:
                response = viewer.get(url, {name: value})
                assert response.status_code < 500, (url, name, value[:20], response.status_code)


def test_bytes_that_are_not_utf8(client_for, flow):
    admin = client_for("admin")
    body = b"notes=%ff%fe%00&mode=%c3%28&cron=%e2%82"
    for url in ("/flows/hx/publish/", "/flows/hx/trigger/", "/flows/hx/steps/0/", "/flows/new/"):
        response = admin.generic("POST", url, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500, url
    assert admin.get("/flows/?q=%ff%fe").status_code < 500
