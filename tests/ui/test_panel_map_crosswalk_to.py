"""The mapping panel and the reverse crosswalk form (`crosswalk: {"object", "to", "optional"}`: a
canonical id → a system's id): the row says which way it reads, opening and saving it keeps it
as it is, and the direction and the optional flag can be chosen."""

import pytest

from integrations.flows import editing
from tests.ui.panel_fixtures import draft_step, hx, panel_flow  # noqa: F401

pytestmark = pytest.mark.django_db
PANEL = "/flows/opp/steps/0/"
REVERSE = {"to": "client_id", "from": "$.AccountId", "crosswalk": {"object": "client", "to": "salesforce",
                                                                    "optional": True}}  # fmt: skip


@pytest.fixture
def reverse_row(panel_flow, personas):  # noqa: F811
    fields = [{"to": "name", "from": "$.Name"}, REVERSE]
    step = {"id": "project", "type": "map", "target": "project@1", "fields": fields}
    editing.replace_step(panel_flow, personas["analyst"], 0, step)
    return panel_flow


def fields_of(flow) -> dict:
    return {f["to"]: f for f in draft_step(flow, 0)["fields"]}


def test_the_row_says_it_turns_the_canonical_id_into_the_system_id(reverse_row, client_for):
    html = client_for("analyst").get(PANEL).content.decode()
    assert "canonical client → salesforce id via crosswalk (optional)" in html
    assert "via crosswalk client/" not in html  # not shown as the system → canonical form


def test_opening_and_saving_the_row_keeps_the_reverse_form(reverse_row, client_for):
    c = client_for("analyst")
    form = hx(c, "get", PANEL + "map/row/?to=client_id&edit=1").content.decode()
    assert '<option value="to" selected>canonical id → system id</option>' in form
    assert 'name="xw_optional" checked' in form and 'name="xw_system" value="salesforce"' in form
    # What the open form posts back, unchanged:
    posted = {"to": "client_id", "kind": "lookup", "from": "$.AccountId", "lookup": "crosswalk",
              "xw_object": "client", "xw_system": "salesforce", "xw_direction": "to", "xw_optional": "on"}  # fmt: skip
    saved = hx(c, "post", PANEL + "map/row/save/", posted)
    assert saved.status_code == 200, saved.content.decode()[:500]
    assert "canonical client → salesforce id via crosswalk (optional)" in saved.content.decode()
    assert fields_of(reverse_row)["client_id"] == REVERSE


def test_the_direction_and_the_optional_flag_can_be_changed(reverse_row, client_for):
    c = client_for("analyst")
    row = {"to": "client_id", "kind": "lookup", "from": "$.AccountId", "lookup": "crosswalk",
           "xw_object": "client", "xw_system": "salesforce", "xw_direction": "system"}  # fmt: skip
    assert hx(c, "post", PANEL + "map/row/save/", row).status_code == 200
    assert fields_of(reverse_row)["client_id"]["crosswalk"] == {"object": "client", "system": "salesforce"}
    page = c.get(PANEL).content.decode()
    assert "via crosswalk client/salesforce" in page and "canonical client →" not in page
    bad = hx(c, "post", PANEL + "map/row/save/", {**row, "xw_direction": "sideways"})
    assert bad.status_code == 422 and "Direction: choose one of" in bad.content.decode()
    assert fields_of(reverse_row)["client_id"]["crosswalk"] == {"object": "client", "system": "salesforce"}


def test_a_template_row_through_the_crosswalk_says_so(panel_flow, personas, client_for):  # noqa: F811
    """Invoice status back's `crm_link`: a template whose value goes through the crosswalk."""
    row = {"to": "opportunity_id", "template": "{{ input.Id }}",
           "crosswalk": {"object": "project", "to": "salesforce", "optional": True}}  # fmt: skip
    editing.replace_step(panel_flow, personas["analyst"], 0, {"id": "crm_link", "type": "map", "fields": [row]})
    html = client_for("analyst").get(PANEL).content.decode()
    assert "canonical project → salesforce id via crosswalk (optional)" in html
