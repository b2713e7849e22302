"""The mapping editor (the map step's panel): rows per canonical target with previews on the
sample, row kinds, live template preview with the engine's errors, required-unmapped counter,
suggestions accepted and dismissed, and every save going into the draft."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.audit.models import AuditEntry
from tests.ui.panel_fixtures import draft_step, hx, panel_flow  # noqa: F401

pytestmark = pytest.mark.django_db
PANEL = "/flows/opp/steps/0/"


def test_panel_lists_canonical_targets_with_required_marks_and_previews(panel_flow, client_for):  # noqa: F811
    page = client_for("analyst").get(PANEL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="map-row-client_id"' in html and 'data-testid="map-row-start_date"' in html
    assert "Required unmapped: 5" in html  # project@1 requires 6 fields; name is mapped
    assert "Acme rollout" in html  # name's preview on the sample
    assert "CloseDate" in html  # the source tree
    unmapped = client_for("analyst").get(PANEL + "?unmapped=1").content.decode()
    assert 'data-testid="map-row-name"' not in unmapped and 'data-testid="map-row-client_id"' in unmapped


def test_template_preview_follows_the_typing_and_shows_engine_errors(panel_flow, client_for):  # noqa: F811
    c = client_for("analyst")
    row = {"to": "code", "kind": "template", "template": "{{ record.Name | upper }}"}
    ok = hx(c, "post", PANEL + "map/row/preview/", row)
    assert ok.status_code == 200 and "ACME ROLLOUT" in ok.content.decode()
    broken = hx(c, "post", PANEL + "map/row/preview/", {**row, "template": "{{ record.Name | upper "})
    assert "template does not compile" in broken.content.decode()
    typo = hx(c, "post", PANEL + "map/row/preview/", {**row, "template": "{{ record.Nme }}"})
    assert "has no attribute &#x27;Nme&#x27;" in typo.content.decode()
    huge = hx(c, "post", PANEL + "map/row/preview/", {**row, "template": "{{ 'x' * 100000000 }}"})
    assert "SWITCHBOARD_TEMPLATE_MAX_OUTPUT" in huge.content.decode()
    assert draft_step(panel_flow, 0)["fields"] == [{"to": "name", "from": "$.Name"}]  # nothing saved


def test_each_row_kind_saves_into_the_draft(panel_flow, client_for):  # noqa: F811
    c = client_for("analyst")
    rows = [
        {"to": "client_id", "kind": "lookup", "from": "$.AccountId", "lookup": "crosswalk", "xw_object": "client",
         "xw_system": "salesforce"},
        {"to": "region", "kind": "lookup", "from": "$.Region__c", "lookup": "value_map", "value_map": "regions",
         "pairs": "Europe = EMEA\nNorth America = NA\nAsia = APAC"},
        {"to": "status", "kind": "constant", "constant": "won"},
        {"to": "contract_value", "kind": "field", "from": "$.Amount", "type": "money"},
        {"to": "start_date", "kind": "template", "from": "$.CloseDate", "template": "{{ value | as_date }}",
         "required": "on"},
    ]  # fmt: skip
    for row in rows:
        answer = hx(c, "post", PANEL + "map/row/save/", row)
        assert answer.status_code == 200, answer.content.decode()[:500]
        assert 'data-testid="map-row-saved"' in answer.content.decode()
    fields = {f["to"]: f for f in draft_step(panel_flow, 0)["fields"]}
    assert fields["client_id"]["crosswalk"] == {"object": "client", "system": "salesforce"}
    assert fields["region"] == {"to": "region", "from": "$.Region__c", "value_map": "regions"}
    assert fields["status"] == {"to": "status", "constant": "won"}
    assert fields["contract_value"]["type"] == "money"
    assert fields["start_date"]["required"] is True
    from integrations.flows.services import draft_of

    assert draft_of(panel_flow).definition["value_maps"]["regions"]["Asia"] == "APAC"
    assert AuditEntry.objects.filter(action="flow.step.update").count() == 5
    page = c.get(PANEL).content.decode()
    assert "Required unmapped: 2" in page  # billing_type and currency are left
    assert "EMEA" in page and "300000" in page


def test_bad_rows_answer_422_with_the_message_at_the_field(panel_flow, client_for):  # noqa: F811
    c = client_for("analyst")
    answer = hx(c, "post", PANEL + "map/row/save/", {"to": "contract_value", "kind": "constant", "constant": "lots"})
    assert answer.status_code == 422
    assert "Constant: “lots” is not a number" in answer.content.decode()
    answer = hx(c, "post", PANEL + "map/row/save/", {"to": "code", "kind": "field", "from": "Name"})
    assert answer.status_code == 422 and "starts with $" in answer.content.decode()
    saved = hx(c, "post", PANEL + "map/row/save/", {"to": "code", "kind": "template", "template": "{% for %}"})
    assert saved.status_code == 200  # a draft may hold an invalid row: the engine's message shows at the row
    assert "template does not compile" in saved.content.decode()
    assert "template does not compile" in c.get(PANEL).content.decode()


def test_type_mismatch_names_the_coercion(panel_flow, client_for):  # noqa: F811
    c = client_for("analyst")
    hx(c, "post", PANEL + "map/row/save/", {"to": "budget_hours", "kind": "constant", "constant": "12"})
    answer = hx(c, "post", PANEL + "map/row/preview/", {"to": "start_date", "kind": "field", "from": "$.Name"})
    assert "Acme rollout" in answer.content.decode()
    converted = hx(c, "post", PANEL + "map/row/preview/", {"to": "contract_value", "kind": "field", "from": "$.Amount",
                                                          "type": "money"})  # fmt: skip
    assert "rounded half-up to 2 places" in converted.content.decode()
    text_for_number = hx(c, "post", PANEL + "map/row/preview/", {"to": "contract_value", "kind": "field",
                                                                "from": "$.CurrencyIsoCode"})  # fmt: skip
    assert "text → number needed" in text_for_number.content.decode()


def test_suggest_accept_and_dismiss_row_by_row(panel_flow, client_for):  # noqa: F811
    c = client_for("analyst")
    proposed = hx(c, "post", PANEL + "map/suggest/").content.decode()
    assert 'data-testid="suggestion-start_date"' in proposed
    assert "known synonym: CloseDate ↔ start_date" in proposed
    after = hx(c, "post", PANEL + "map/suggest/", {"action": "accept", "to": "start_date"}).content.decode()
    assert {"to": "start_date", "from": "$.CloseDate", "required": True} in draft_step(panel_flow, 0)["fields"]
    assert 'data-testid="suggestion-start_date"' not in after
    dismissed = hx(c, "post", PANEL + "map/suggest/", {"action": "dismiss", "to": "currency"}).content.decode()
    assert 'data-testid="suggestion-currency"' not in dismissed
    assert 'name="dismissed" value="currency"' in dismissed  # carried on to the next accept
    assert not any(f["to"] == "currency" for f in draft_step(panel_flow, 0)["fields"])


def test_remove_and_change_target(panel_flow, client_for):  # noqa: F811
    c = client_for("analyst")
    hx(c, "post", PANEL + "map/row/remove/", {"to": "name"})
    assert draft_step(panel_flow, 0)["fields"] == []
    assert hx(c, "post", PANEL + "map/target/", {"target": "worker@1"}).status_code == 200
    assert draft_step(panel_flow, 0)["target"] == "worker@1"
    assert hx(c, "post", PANEL + "map/target/", {"target": "nope@9"}).status_code == 422


def test_viewer_sees_the_panel_but_cannot_change_it(panel_flow, client_for):  # noqa: F811
    viewer = client_for("viewer")
    page = viewer.get(PANEL).content.decode()
    assert 'data-testid="map-panel"' in page and 'data-testid="map-suggest"' not in page
    row = {"to": "name", "kind": "constant", "constant": "x"}
    for action in ("map/row/save/", "map/row/preview/", "map/suggest/", "map/target/", "map/row/remove/"):
        assert hx(viewer, "post", PANEL + action, row).status_code == 403
    assert client_for("outsider").get(PANEL).status_code == 403


def test_a_200_field_mapping_renders_with_a_bounded_number_of_queries(panel_flow, client_for, personas):  # noqa: F811
    from integrations.flows import editing

    fields = [{"to": f"f{i}", "from": "$.Name", "template": "{{ value | upper }}"} for i in range(200)]
    editing.replace_step(panel_flow, personas["analyst"], 0, {"id": "project", "type": "map", "fields": fields})
    c = client_for("analyst")
    with CaptureQueriesContext(connection) as queries:
        page = c.get(PANEL)
    assert page.status_code == 200 and page.content.decode().count("ACME ROLLOUT") == 200
    assert len(queries) <= 12, [q["sql"][:80] for q in queries]
    with CaptureQueriesContext(connection) as queries:
        hx(c, "post", PANEL + "map/row/preview/", {"to": "f7", "kind": "template", "template": "{{ record.Name }}"})
    assert len(queries) <= 10


def test_crosswalk_rows_read_their_links_in_one_query(panel_flow, client_for, personas):  # noqa: F811
    from integrations.crosswalk.services import link
    from integrations.flows import editing

    link("client", "salesforce", "001A000009", "client-acme")
    crosswalk = {"object": "client", "system": "salesforce"}
    fields = [{"to": f"c{i}", "from": "$.AccountId", "crosswalk": crosswalk} for i in range(3)]
    editing.replace_step(panel_flow, personas["analyst"], 0, {"id": "project", "type": "map", "fields": fields})
    c = client_for("analyst")
    few = len(_queries(c, PANEL))
    sources = ["$.Id", "$.Name", "$.StageName", "$.CloseDate", "$.AccountId"]  # five ids, one of them linked
    fields += [{"to": f"c{i}", "from": sources[i % 5], "crosswalk": crosswalk} for i in range(3, 60)]
    editing.replace_step(panel_flow, personas["analyst"], 0, {"id": "project", "type": "map", "fields": fields})
    many = _queries(c, PANEL)
    assert len(many) == few, [q["sql"][:80] for q in many]
    page = c.get(PANEL).content.decode()
    assert page.count("client-acme") == 3 + len(range(4, 60, 5))  # each row reading AccountId shows the link


def test_listed_rows_say_how_they_are_filled_and_cut_long_text(panel_flow, client_for, personas):  # noqa: F811
    from integrations.flows import editing

    long_template = "{{ record.Name }}" + "x" * 300
    fields = [
        {"to": "name", "from": "$.Name"},
        {"to": "region", "from": "$.Region__c", "value_map": "regions"},
        {"to": "client_id", "from": "$.AccountId", "crosswalk": {"object": "client", "system": "salesforce"}},
        {"to": "contract_value", "from": "$.Amount", "type": "money"},
        {"to": "code", "template": long_template},
    ]
    step = {"id": "project", "type": "map", "target": "project@1", "fields": fields}
    editing.replace_step(panel_flow, personas["analyst"], 0, step)
    html = client_for("analyst").get(PANEL).content.decode()
    assert "via value map regions" in html and "EMEA" in html
    assert "via crosswalk client/salesforce" in html
    assert "→ money" in html
    assert f"<code>{long_template[:79]}…</code>" in html  # the row's source: at most 80 characters
    assert f"{('Acme rollout' + 'x' * 300)[:199]}…</code>" in html  # the value: at most 200
    assert 'data-testid="map-row-billing_type" data-kind=""' in html  # unmapped: no kind
    assert 'aria-label="Map billing_type"' in html and 'aria-label="Edit name"' in html


def test_saving_a_row_of_a_200_field_mapping_reads_no_more_than_for_a_short_one(panel_flow, client_for, personas):  # noqa: F811
    from integrations.flows import editing

    c = client_for("analyst")
    row = {"to": "f7", "kind": "template", "template": "{{ record.Name | lower }}"}
    few = _queries(c, PANEL + "map/row/save/", row, post=True)
    fields = [{"to": f"f{i}", "from": "$.Name", "template": "{{ value | upper }}"} for i in range(200)]
    step = {"id": "project", "type": "map", "target": "project@1", "fields": fields}
    editing.replace_step(panel_flow, personas["analyst"], 0, step)
    many = _queries(c, PANEL + "map/row/save/", {**row, "template": "{{ record.Name }}"}, post=True)
    assert len(many) == len(few), ([q["sql"][:60] for q in few], [q["sql"][:60] for q in many])
    assert {"to": "f7", "template": "{{ record.Name }}"} in draft_step(panel_flow, 0)["fields"]


def _queries(client, url: str, data=None, post: bool = False) -> list[dict]:
    with CaptureQueriesContext(connection) as queries:
        answer = hx(client, "post" if post else "get", url, data)
    assert answer.status_code == 200, answer.content.decode()[:300]
    return queries.captured_queries


def test_the_preview_follows_the_default_and_the_required_box_too(panel_flow, client_for):  # noqa: F811
    c = client_for("analyst")
    opened = hx(c, "get", PANEL + "map/row/", {"to": "code", "edit": "1"}).content.decode()
    for testid in ("map-default", "map-required"):  # each asks for the preview when it changes
        tag = opened[opened.rindex("<", 0, opened.index(f'data-testid="{testid}"')) :]
        assert 'hx-post="/flows/opp/steps/0/map/row/preview/"' in tag[: tag.index(">")], testid
    row = {"to": "code", "kind": "field", "from": "$.NoSuchField"}
    assert "left out: no value on the sample" in hx(c, "post", PANEL + "map/row/preview/", row).content.decode()
    required = hx(c, "post", PANEL + "map/row/preview/", {**row, "required": "on"}).content.decode()
    assert "code is required but missing" in required
    defaulted = hx(c, "post", PANEL + "map/row/preview/", {**row, "required": "on", "default": "n/a"}).content.decode()
    assert ">n/a</code>" in defaulted
