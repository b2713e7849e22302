"""The flow pages: list, new flow, editor (step list, panels, trigger), versions, publish."""

import pytest
from django.urls import reverse

from integrations.audit.models import AuditEntry
from integrations.connections.models import Connection
from integrations.flows import editing, services
from integrations.flows.models import Flow, PublishRequest

pytestmark = pytest.mark.django_db

MAP = {"id": "shape", "type": "map", "fields": [{"to": "name", "from": "$.Name", "required": True}]}
DELIVER = {
    "id": "post",
    "type": "deliver",
    "connection": "erp",
    "object": "job",
    "action": "upsert",
    "key": "job-{{ record.name }}",
}


@pytest.fixture
def conns(db):
    Connection.objects.create(name="crm", kind="generic_webhook")
    Connection.objects.create(name="erp", kind="generic_rest", base_url="https://erp.example.com")
    Connection.objects.create(name="netsuite", kind="netsuite", base_url="https://ns.example.com")


@pytest.fixture
def flow(personas, conns):
    definition = {"trigger": {"type": "event", "connection": "crm", "event": "deal.won"}, "steps": [MAP, DELIVER]}
    return services.create_flow(personas["analyst"], key="deals", name="Deals", definition=definition)


def test_list_shows_flows_and_filters_by_query_string(client_for, flow, personas):
    services.create_flow(personas["analyst"], key="other", name="Something else")
    page = client_for("viewer").get("/flows/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="flow-row-deals"' in body and 'data-testid="flow-row-other"' in body
    assert 'data-testid="flow-draft-deals"' in body  # nothing live: the draft is unpublished
    filtered = client_for("viewer").get("/flows/?q=deal", headers={"HX-Request": "true"})
    text = filtered.content.decode()
    assert "flow-row-deals" in text and "flow-row-other" not in text and "<html" not in text
    assert "flows-none-match" in client_for("viewer").get("/flows/?status=paused").content.decode()


def test_new_flow_form_names_the_field_at_fault(client_for, flow):
    analyst = client_for("analyst")
    response = analyst.post("/flows/new/", {"key": "deals", "name": "Again"})
    assert response.status_code == 400 and "a flow with this key already exists" in response.content.decode()
    response = analyst.post("/flows/new/", {"key": "Not a slug!", "name": "x"})
    assert response.status_code == 400 and 'data-testid="error-key"' in response.content.decode()
    response = analyst.post("/flows/new/", {"key": "copy", "name": "Copy", "start_from": ""})
    assert response.status_code == 302 and Flow.objects.filter(key="copy").exists()
    assert client_for("viewer").post("/flows/new/", {"key": "v", "name": "v"}).status_code == 403


def test_editor_shows_banner_steps_and_badges(client_for, flow, personas):
    editing.replace_step(flow, personas["analyst"], 0, {**MAP, "fields": [{"to": "name", "template": "{{ oops"}]})
    body = client_for("viewer").get("/flows/deals/").content.decode()
    assert "Editing draft v1 — nothing is live yet" in body
    assert 'data-testid="step-badge-0"' in body and "1 to fix" in body
    assert 'data-testid="add-step-after-0"' not in body  # a viewer cannot edit
    assert 'data-testid="add-step-after-0"' in client_for("analyst").get("/flows/deals/").content.decode()


def test_add_move_delete_steps(client_for, flow):
    analyst = client_for("analyst")
    response = analyst.post("/flows/deals/steps/add/", {"index": "1", "type": "validate", "id": "check"})
    assert response.status_code == 302 and response.url.endswith("?step=1#step-panel")
    ids = [s["id"] for s in services.draft_of(flow).definition["steps"]]
    assert ids == ["shape", "check", "post"]
    analyst.post("/flows/deals/steps/move/", {"index": "1", "to": "0"})
    assert [s["id"] for s in services.draft_of(flow).definition["steps"]] == ["check", "shape", "post"]
    analyst.post("/flows/deals/steps/delete/", {"index": "0"})
    assert [s["id"] for s in services.draft_of(flow).definition["steps"]] == ["shape", "post"]
    bad = analyst.post("/flows/deals/steps/add/", {"index": "x", "type": "nope"}, follow=True)
    assert bad.status_code == 200 and "Pick a step type" in bad.content.decode()
    assert client_for("viewer").post("/flows/deals/steps/delete/", {"index": "0"}).status_code == 403


def test_generic_deliver_panel_saves_and_shows_engine_errors_at_the_field(client_for, flow):
    analyst = client_for("analyst")
    hx = {"HX-Request": "true"}
    panel = analyst.get("/flows/deals/steps/1/", headers=hx)
    assert panel.status_code == 200 and 'data-testid="field-key"' in panel.content.decode()
    form = {"id": "post", "connection": "erp", "object": "job", "action": "upsert", "key": "{{ oops", "base": ""}
    response = analyst.post("/flows/deals/steps/1/", form, headers=hx)
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="error-key"' in body and "template" in body
    assert services.draft_of(flow).definition["steps"][1]["key"] == "{{ oops"  # saved: drafts may be invalid
    assert 'id="step-list"' in body and "hx-swap-oob" in body  # badges refreshed


def test_deleted_connection_is_reported_at_the_field_and_blocks_publish(client_for, flow):
    Connection.objects.filter(name="erp").delete()
    analyst = client_for("analyst")
    panel = analyst.get("/flows/deals/steps/1/", headers={"HX-Request": "true"}).content.decode()
    assert 'data-testid="error-connection"' in panel and "connection &#x27;erp&#x27; does not exist" in panel
    response = analyst.post("/flows/deals/publish/", {"notes": "go"})
    assert response.status_code == 422 and 'data-testid="publish-blockers"' in response.content.decode()
    assert not flow.versions.filter(state="published").exists()


def test_trigger_panel_cron_errors_at_the_field_and_next_times(client_for, flow):
    analyst = client_for("analyst")
    hx = {"HX-Request": "true"}
    response = analyst.post("/flows/deals/trigger/", {"mode": "schedule", "cron": "61 * * * *"}, headers=hx)
    body = response.content.decode()
    assert 'data-testid="trigger-error-cron"' in body and "minute &#x27;61&#x27; is out of range 0-59" in body
    response = analyst.post(
        "/flows/deals/trigger/", {"mode": "schedule", "cron": "0 9 * * mon-fri", "timezone": "Europe/Paris"}, headers=hx
    )
    assert response.status_code == 200 and 'data-testid="cron-times"' in response.content.decode()
    assert services.draft_of(flow).definition["trigger"] == {
        "type": "schedule",
        "cron": "0 9 * * mon-fri",
        "timezone": "Europe/Paris",
    }
    preview = analyst.get("/flows/deals/trigger/cron/?cron=0+9+*+*+*&timezone=Mars/Base").content.decode()
    assert "is not an IANA time zone" in preview
    refused = analyst.post("/flows/deals/trigger/", {"mode": "poll", "page_size": "0"}, headers=hx)
    assert refused.status_code == 422 and 'data-testid="trigger-error-page_size"' in refused.content.decode()


def test_webhook_trigger_shows_url_and_takes_a_write_only_secret(client_for, flow):
    analyst = client_for("analyst")
    hx = {"HX-Request": "true"}
    secret = "whsec_" + "A" * 40
    response = analyst.post(
        "/flows/deals/trigger/", {"mode": "webhook", "connection": "crm", "signing_secret": secret}, headers=hx
    )
    body = response.content.decode()
    assert response.status_code == 200 and "/hooks/crm/" in body and secret not in body
    assert Connection.objects.get(name="crm").get_credentials()["webhook_secret"] == secret
    assert secret not in str(list(AuditEntry.objects.values_list("changes", flat=True)))


def test_publish_needs_a_note_and_erp_needs_a_second_person(client_for, flow, personas):
    analyst, admin = client_for("analyst"), client_for("admin")
    response = analyst.post("/flows/deals/publish/", {"notes": ""})
    assert response.status_code == 422 and 'data-testid="error-notes"' in response.content.decode()
    assert analyst.post("/flows/deals/publish/", {"notes": "first"}).status_code == 302  # not an ERP: live at once
    assert flow.live_version.number == 1
    editing.replace_step(flow, personas["analyst"], 1, {**DELIVER, "connection": "netsuite"})
    analyst.post("/flows/deals/publish/", {"notes": "to netsuite"})
    request = PublishRequest.objects.get(state="pending")
    assert flow.live_version.number == 1  # not yet
    own = analyst.post(f"/flows/deals/publish/requests/{request.pk}/approve/", follow=True)
    assert "a second person has to approve it" in own.content.decode()
    assert client_for("approver").post(f"/flows/deals/publish/requests/{request.pk}/approve/").status_code == 403
    assert admin.post(f"/flows/deals/publish/requests/{request.pk}/approve/").status_code == 302
    live = Flow.objects.get(pk=flow.pk).live_version
    assert (live.number, live.notes, live.published_by.username) == (2, "to netsuite", "admin")


def test_versions_compare_and_restore(client_for, flow, personas):
    services.publish(flow, personas["analyst"], notes="v1")
    editing.replace_step(flow, personas["analyst"], 0, {**MAP, "fields": [{"to": "name", "from": "$.Title"}]})
    services.publish(flow, personas["analyst"], notes="v2")
    viewer = client_for("viewer")
    body = viewer.get("/flows/deals/versions/").content.decode()
    assert 'data-testid="version-row-1"' in body and 'data-testid="version-row-2"' in body and "v2" in body
    compare = viewer.get(reverse("flows:version-compare", args=["deals"]) + "?a=1&b=2").content.decode()
    assert 'data-testid="diff-change-shape"' in compare and "fields[name].from" in compare and "$.Title" in compare
    assert viewer.get("/flows/deals/versions/compare/?a=9&b=2").status_code == 400
    response = client_for("analyst").post("/flows/deals/versions/1/restore/")
    assert response.status_code == 302
    assert services.draft_of(flow).definition["steps"][0]["fields"][0]["from"] == "$.Name"
    assert AuditEntry.objects.filter(action="flow.version.restore").count() == 1


def test_settings_and_status(client_for, flow, personas):
    analyst = client_for("analyst")
    response = analyst.post("/flows/deals/settings/", {"name": "Deals 2", "description": "d", "tags": "a, b, a"})
    assert response.status_code == 302
    flow.refresh_from_db()
    assert (flow.name, flow.tags) == ("Deals 2", ["a", "b"])
    assert analyst.post("/flows/deals/settings/", {"name": ""}).status_code == 400
    follow = analyst.post("/flows/deals/status/", {"status": "active"}, follow=True)
    assert "publish a version before activating" in follow.content.decode()


@pytest.mark.parametrize("url", ["", "runs/", "versions/", "settings/", "publish/"])
def test_every_tab_renders_for_a_viewer(client_for, flow, url):
    assert client_for("viewer").get(f"/flows/deals/{url}").status_code == 200
