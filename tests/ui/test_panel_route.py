"""The routing rule builder (the route step's panel): mode, named branches in order, condition
groups two levels deep, the default branch, test against the sample, save into the draft."""

import pytest

from integrations.flows import editing
from tests.ui.panel_fixtures import draft_step, hx, panel_flow  # noqa: F401

pytestmark = pytest.mark.django_db
PANEL = "/flows/opp/steps/2/"
EDIT = PANEL + "route/"


@pytest.fixture(autouse=True)
def merged(panel_flow, personas):  # noqa: F811
    """The map step keeps the opportunity's fields (merge), so the route sees them."""
    step = {"id": "project", "type": "map", "merge": True, "fields": [{"to": "name", "from": "$.Name"}]}
    editing.replace_step(panel_flow, personas["analyst"], 0, step)


def form(**extra):
    """Two branches as the builder posts them: big EMEA deals, then everything in Europe."""
    data = {
        "mode": "first-match",
        "branches": "2",
        "b0-name": "big_emea",
        "b0-join": "and",
        "b0-0-field": "record.Region__c",
        "b0-0-op": "==",
        "b0-0-value": "Europe",
        "b0-1-join": "or",
        "b0-1-0-field": "record.Amount",
        "b0-1-0-op": ">",
        "b0-1-0-value": "250000",
        "b0-1-1-field": "record.StageName",
        "b0-1-1-op": "in",
        "b0-1-1-value": "Closed Won, Signed",
        "b0-to": "erp_emea",
        "b1-name": "europe",
        "b1-join": "and",
        "b1-0-field": "record.Region__c",
        "b1-0-op": "==",
        "b1-0-value": "Europe",
        "b1-to": "erp_na",
        "otherwise": "erp_na",
    }
    data.update(extra)
    return data


def test_panel_opens_the_saved_route_in_the_builder(panel_flow, client_for):  # noqa: F811
    page = client_for("analyst").get(PANEL).content.decode()
    assert 'data-testid="route-panel"' in page
    assert 'value="emea"' in page and 'value="record.region"' in page and 'value="EMEA"' in page
    assert 'data-testid="route-default"' in page and "record.Amount" in page  # the field picker lists the sample


def test_save_writes_conditions_two_levels_deep(panel_flow, client_for):  # noqa: F811
    answer = hx(client_for("analyst"), "post", EDIT, {**form(), "action": "save"})
    assert answer.status_code == 200 and 'data-testid="route-saved"' in answer.content.decode()
    step = draft_step(panel_flow, 2)
    assert step["mode"] == "first-match" and step["otherwise"] == "erp_na"
    assert step["rules"][0] == {
        "name": "big_emea",
        "when": "record.Region__c == 'Europe' and "
        "(record.Amount > 250000 or record.StageName in ['Closed Won', 'Signed'])",
        "to": "erp_emea",
    }
    reopened = client_for("analyst").get(PANEL).content.decode()
    assert 'name="b0-1-1-value" value="Closed Won, Signed"' in reopened  # parsed back into the builder


def test_test_against_sample_marks_the_branch_taken(panel_flow, client_for):  # noqa: F811
    c = client_for("analyst")
    first = hx(c, "post", EDIT, {**form(), "action": "test"}).content.decode()
    assert 'data-testid="route-hit-big_emea"' in first and 'data-testid="route-hit-europe"' not in first
    every = hx(c, "post", EDIT, {**form(mode="all-matches"), "action": "test"}).content.decode()
    assert 'data-testid="route-hit-big_emea"' in every and 'data-testid="route-hit-europe"' in every
    none = hx(c, "post", EDIT, {**form(**{"b0-0-value": "Asia", "b1-0-value": "Asia"}), "action": "test"}).content
    assert b'data-testid="route-hit-default"' in none
    assert draft_step(panel_flow, 2)["rules"][0]["name"] == "emea"  # testing saves nothing


def test_move_add_remove_and_the_default_cannot_go(panel_flow, client_for):  # noqa: F811
    c = client_for("analyst")
    moved = hx(c, "post", EDIT, {**form(), "action": "down:0"}).content.decode()
    assert moved.index('value="europe"') < moved.index('value="big_emea"')
    added = hx(c, "post", EDIT, {**form(), "action": "add-branch"}).content.decode()
    assert 'value="branch_3"' in added
    grouped = hx(c, "post", EDIT, {**form(), "action": "group:1"}).content.decode()
    assert 'name="b1-1-0-field"' in grouped
    removed = hx(c, "post", EDIT, {**form(), "action": "remove:0"}).content.decode()
    assert 'value="big_emea"' not in removed and 'data-testid="route-default"' in removed
    nowhere = hx(c, "post", EDIT, {**form(), "otherwise": "", "action": "refresh"}).content.decode()
    assert 'data-testid="route-default-nowhere"' in nowhere


def test_errors_show_at_the_branch_and_nothing_is_saved(panel_flow, client_for):  # noqa: F811
    c = client_for("analyst")
    broken = form(**{"b1-name": "big_emea", "b0-1-0-value": "lots", "b1-to": ""})
    bad = hx(c, "post", EDIT, {**broken, "action": "save"})
    html = bad.content.decode()
    assert bad.status_code == 422
    assert "is used by an earlier branch" in html and "is not a number" in html and "choose the step(s)" in html
    assert draft_step(panel_flow, 2)["rules"][0]["name"] == "emea"
    contains_on_a_number = form(**{"b1-0-field": "record.Amount", "b1-0-op": "contains", "b1-0-value": "x"})
    wrong_type = hx(c, "post", EDIT, {**contains_on_a_number, "action": "test"}).content.decode()
    assert "cannot be evaluated on the sample" in wrong_type


def test_operators_follow_the_field_type(panel_flow, client_for):  # noqa: F811
    html = hx(client_for("analyst"), "post", EDIT, {**form(), "action": "refresh"}).content.decode()
    amount_ops = html.split('name="b0-1-0-op"')[1].split("</select>")[0]
    assert "greater than" in amount_ops and "contains" not in amount_ops
    region_ops = html.split('name="b0-0-op"')[1].split("</select>")[0]
    assert "contains" in region_ops and "greater than" not in region_ops


def test_viewer_cannot_post(panel_flow, client_for):  # noqa: F811
    assert hx(client_for("viewer"), "post", EDIT, {**form(), "action": "save"}).status_code == 403
