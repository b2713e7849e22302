"""The template gallery page: cards with what each flow needs, and Install in one click."""

from django.urls import reverse

from integrations.audit.models import AuditEntry
from integrations.connections.models import Connection
from integrations.flows.models import Flow
from integrations.gallery.catalog import BY_KEY, TEMPLATES


def test_every_template_is_a_card_naming_its_missing_connections(client_for):
    Connection.objects.create(name="kantata", kind="kantata", base_url="https://kantata.example.com")
    page = client_for("viewer").get(reverse("gallery:list"))
    html = page.content.decode()
    assert page.status_code == 200
    for t in TEMPLATES:
        assert f'data-testid="template-{t.key}"' in html and t.name in html
    # time to billing needs kantata (there) and netsuite (not there): only netsuite is named missing
    card = html.split('data-testid="template-time-to-billing"')[1].split("</article>")[0]
    assert 'data-testid="missing">Missing: netsuite.' in card
    assert "install-time-to-billing" not in html and 'data-testid="gallery-readonly"' in html


def test_install_makes_a_draft_flow_in_one_click_and_opens_it(client_for, personas):
    analyst = client_for("analyst")
    response = analyst.post(reverse("gallery:install", args=["time-to-billing"]))
    flow = Flow.objects.get(key="time-to-billing")
    assert response.status_code == 302 and response["Location"] == reverse("flows:editor", args=[flow.key])
    assert flow.status == "draft" and flow.live_version is None
    assert flow.draft.definition == BY_KEY["time-to-billing"].definition
    assert "gallery:time-to-billing" in flow.tags
    entry = AuditEntry.objects.get(action="gallery.install")
    assert entry.actor == personas["analyst"]
    assert entry.changes == {"template": [None, "time-to-billing"], "flow": [None, flow.key]}
    # a second install is a second flow; the first one is left alone
    analyst.post(reverse("gallery:install", args=["time-to-billing"]))
    assert sorted(Flow.objects.values_list("key", flat=True)) == ["time-to-billing", "time-to-billing-2"]
    html = analyst.get(reverse("gallery:list")).content.decode()
    assert "Install another copy" in html


def test_unknown_template_is_404_and_a_viewer_cannot_install(client_for):
    assert client_for("analyst").post(reverse("gallery:install", args=["nope"])).status_code == 404
    assert client_for("viewer").post(reverse("gallery:install", args=["time-to-billing"])).status_code == 403
    assert client_for("analyst").get(reverse("gallery:install", args=["time-to-billing"])).status_code == 405
    assert not Flow.objects.exists()
