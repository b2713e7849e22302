"""Every field of the map, route and approve panels fed hostile, oversized and
non-UTF-8-looking input: the answer is a page or a 4xx with a form error, never a 500, and
what is saved is always a definition the draft can hold."""

import json
from urllib.parse import urlencode

import pytest

from integrations.flows.services import draft_of
from tests.ui.panel_fixtures import hx, panel_flow  # noqa: F401

pytestmark = pytest.mark.django_db

HOSTILE = [
    "",
    "\x00",
    "A" * 60_000,  # above every field's limit
    "9" * 400,
    "1e309",
    "NaN",
    "<script>alert(1)</script>' OR 1=1 --",
    "{% for x in range(10**9) %}{{ x }}{% endfor %}",
    "{{ ''.__class__.__mro__ }}",
    "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}",  # nested deeper than Jinja's parser can recurse
    "$" + "[" * 3000,
    "\u202eevil\u200b😀\nb",
]
MAP_ROW = {
    "to": "code",
    "kind": "template",
    "from": "$.Name",
    "constant": "x",
    "template": "{{ value }}",
    "lookup": "value_map",
    "value_map": "regions",
    "pairs": "a = b",
    "xw_object": "client",
    "xw_system": "salesforce",
    "default": "d",
    "type": "string",
    "required": "on",
}
ROUTE = {
    "mode": "first-match",
    "branches": "1",
    "b0-name": "emea",
    "b0-join": "and",
    "b0-0-field": "record.name",
    "b0-0-op": "==",
    "b0-0-value": "x",
    "b0-1-join": "or",
    "b0-1-0-field": "record.name",
    "b0-1-0-op": "in",
    "b0-1-0-value": "a, b",
    "b0-to": "erp_emea",
    "otherwise": "erp_na",
}
APPROVE = {
    "source": "group",
    "group": "Approver",
    "users": "approver",
    "field": "record.name",
    "policy": "any",
    "on_reject": "stop",
    "sla_hours": "24",
    "on_expiry": "escalate",
    "summary": "{{ record.name }}",
    "add_field": "record.name",
}
FORMS = [
    ("/flows/opp/steps/0/map/row/save/", MAP_ROW, {}),
    ("/flows/opp/steps/0/map/row/preview/", MAP_ROW, {}),
    ("/flows/opp/steps/0/map/row/remove/", {"to": "name"}, {}),
    ("/flows/opp/steps/0/map/target/", {"target": "project@1"}, {}),
    ("/flows/opp/steps/0/map/suggest/", {"action": "accept", "to": "start_date", "dismissed": "currency"}, {}),
    ("/flows/opp/steps/2/route/", ROUTE, {"action": "save"}),
    ("/flows/opp/steps/2/route/", ROUTE, {"action": "test"}),
    ("/flows/opp/steps/1/approve/", APPROVE, {"action": "save"}),
]


def _storable(flow):
    definition = draft_of(flow).definition
    json.dumps(definition)  # raises on anything that is not JSON
    assert "\x00" not in json.dumps(definition, ensure_ascii=False)


@pytest.mark.parametrize(("url", "base", "fixed"), FORMS, ids=[f"{u.split('/steps/')[1]}{f}" for u, _b, f in FORMS])
def test_every_field_answers_without_a_server_error(panel_flow, client_for, url, base, fixed):  # noqa: F811
    c = client_for("analyst")
    for name in [*base, "action"]:
        for value in HOSTILE:
            answer = hx(c, "post", url, {**base, **fixed, name: value})
            assert answer.status_code < 500, (name, value[:40], answer.status_code)
            assert answer.status_code in (200, 400, 403, 404, 422), (name, value[:40], answer.status_code)
    _storable(panel_flow)


@pytest.mark.parametrize("url", sorted({u for u, _b, _f in FORMS}))
def test_bytes_that_are_not_utf8_are_refused_or_replaced(panel_flow, client_for, url):  # noqa: F811
    c = client_for("analyst")
    base = dict(next(b | f for u, b, f in FORMS if u == url))
    for name in base:
        body = urlencode({k: v for k, v in base.items() if k != name}).encode() + f"&{name}=".encode() + b"%FF%FE%C0%AF"
        answer = c.post(url, body, content_type="application/x-www-form-urlencoded", HTTP_HX_REQUEST="true")
        assert answer.status_code in (200, 400, 404, 422), (name, answer.status_code)
    _storable(panel_flow)


def test_get_parameters_of_the_panels(panel_flow, client_for):  # noqa: F811
    c = client_for("analyst")
    for value in HOSTILE[:12]:
        for url in ("/flows/opp/steps/0/", "/flows/opp/steps/0/map/row/"):
            answer = c.get(url, {"to": value, "edit": "1", "unmapped": value})
            assert answer.status_code in (200, 404), (url, value[:40], answer.status_code)
    assert c.get("/flows/opp/steps/99/").status_code == 404
    assert hx(c, "post", "/flows/opp/steps/0/route/", ROUTE).status_code == 404  # step 0 is not a route
    assert hx(c, "post", "/flows/nope/steps/0/map/row/save/", MAP_ROW).status_code == 404
