"""The approval step panel: approvers (group, people, a record field), policy, outcomes,
due time and expiry action, the summary template with a preview of the approver's card."""

import pytest

from tests.ui.panel_fixtures import draft_step, hx, panel_flow  # noqa: F401

pytestmark = pytest.mark.django_db
PANEL = "/flows/opp/steps/1/"
EDIT = PANEL + "approve/"
FORM = {
    "source": "group",
    "group": "Approver",
    "policy": "any",
    "on_reject": "stop",
    "sla_hours": "24",
    "on_expiry": "auto-reject",
    "summary": "Set up {{ record.name }}",
}


def test_panel_shows_the_step_and_a_card_preview_on_the_sample(panel_flow, client_for):  # noqa: F811
    page = client_for("analyst").get(PANEL).content.decode()
    assert 'data-testid="approve-panel"' in page
    assert 'value="Approver"' in page
    card = page.split('data-testid="approve-card-preview"')[1]
    assert "Acme rollout" in card  # the summary rendered on the record the step receives
    assert 'data-testid="approve-comment-required"' in page


def test_save_each_approver_source(panel_flow, client_for):  # noqa: F811
    c = client_for("analyst")
    answer = hx(c, "post", EDIT, {**FORM, "action": "save"})
    assert answer.status_code == 200 and 'data-testid="approve-saved"' in answer.content.decode()
    step = draft_step(panel_flow, 1)
    assert step["approvers"] == {"group": "Approver"} and step["sla_hours"] == 24
    assert step["on_expiry"] == "auto-reject" and step["on_reject"] == "stop" and step["policy"] == "any"
    hx(c, "post", EDIT, {**FORM, "source": "users", "users": ["approver", "admin"], "policy": "all", "action": "save"})
    assert draft_step(panel_flow, 1)["approvers"] == {"users": ["approver", "admin"]}
    hx(c, "post", EDIT, {**FORM, "source": "field", "field": "record.name", "on_reject": "erp_na", "action": "save"})
    step = draft_step(panel_flow, 1)
    assert step["approvers"] == {"user": "{{ record.name }}"} and step["on_reject"] == "erp_na"
    reopened = c.get(PANEL).content.decode()
    assert 'value="field" checked' in reopened and '<option value="record.name" selected>' in reopened


def test_summary_preview_and_errors_at_the_field(panel_flow, client_for):  # noqa: F811
    c = client_for("analyst")
    preview = hx(c, "post", EDIT, {**FORM, "summary": "Deal {{ record.name | upper }}", "action": "preview"})
    assert "Deal ACME ROLLOUT" in preview.content.decode()
    broken = hx(c, "post", EDIT, {**FORM, "summary": "{{ record.name ", "action": "preview"}).content.decode()
    assert "template does not compile" in broken
    bad = hx(c, "post", EDIT, {**FORM, "sla_hours": "soon", "group": "", "action": "save"})
    html = bad.content.decode()
    assert bad.status_code == 422 and "Due within: a number of hours" in html and "name the group" in html
    saved = hx(c, "post", EDIT, {**FORM, "summary": "{{ record.name ", "action": "save"})
    assert saved.status_code == 422 and "template does not compile" in saved.content.decode()  # the engine's message
    added = hx(c, "post", EDIT, {**FORM, "add_field": "record.name", "action": "add-field"}).content.decode()
    assert "Set up {{ record.name }} · {{ record.name }}" in added


def test_viewer_cannot_post(panel_flow, client_for):  # noqa: F811
    assert hx(client_for("viewer"), "post", EDIT, {**FORM, "action": "save"}).status_code == 403
    assert draft_step(panel_flow, 1)["approvers"] == {"group": "Approver"}
