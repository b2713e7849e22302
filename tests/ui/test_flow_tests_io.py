"""Export / import in the studio: download a flow's JSON, upload it, see the dry run, apply."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from integrations.audit.models import AuditEntry
from integrations.flows.models import Flow
from integrations.flows.services import create_flow
from tests.runtime.conftest import INVOICE_FLOW, WEBHOOK_SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def flow(personas):
    from integrations.connections.models import Connection

    for name, kind in (("crm", "generic_webhook"), ("erp", "generic_rest")):
        connection = Connection(name=name, kind=kind, base_url=f"https://{name}.example.com")
        connection.set_credentials({"webhook_secret": WEBHOOK_SECRET} if name == "crm" else {"api_key": "k-123456"})
        connection.save()
    return create_flow(personas["analyst"], key="invoices", name="Invoices", definition=INVOICE_FLOW)


def test_export_downloads_the_definition_and_is_audited(flow, client_for):
    answer = client_for("viewer").get("/flows/invoices/io/export.json")
    assert answer["Content-Disposition"] == 'attachment; filename="invoices-draft.json"'
    document = json.loads(answer.content)
    assert document["flows"][0]["definition"] == INVOICE_FLOW
    assert {c["name"] for c in document["flows"][0]["connections"]} == {"crm", "erp"}
    assert b"whsec_" not in answer.content and b"k-123456" not in answer.content  # secrets stay home
    assert b"example.com" not in answer.content  # so do the connections' settings
    assert AuditEntry.objects.filter(action="flow.export").count() == 1


def test_upload_shows_the_dry_run_then_applies(flow, client_for):
    client = client_for("analyst")
    document = json.loads(client.get("/flows/invoices/io/export.json").content)
    document["flows"][0]["definition"]["steps"][0]["fields"][2]["constant"] = "GBP"
    document["flows"].append({**document["flows"][0], "key": "invoices-copy", "name": "Copy"})
    upload = SimpleUploadedFile("flows.json", json.dumps(document).encode(), content_type="application/json")
    page = client.post("/flows/invoices/io/import/", {"file": upload, "action": "preview"}).content.decode()
    assert 'data-testid="plan-action-invoices">1 field(s) change' in page
    assert "definition.steps[0].fields[2].constant" in page and "GBP" in page
    assert 'data-testid="plan-action-invoices-copy">new flow' in page and 'data-testid="import-apply"' in page
    assert not Flow.objects.filter(key="invoices-copy").exists()
    text = json.dumps(document)
    assert client.post("/flows/invoices/io/import/", {"text": text, "action": "apply"}).status_code == 302
    assert Flow.objects.get(key="invoices-copy").draft.definition == document["flows"][1]["definition"]
    assert Flow.objects.get(key="invoices").draft.definition["steps"][0]["fields"][2]["constant"] == "GBP"


def test_missing_connections_block_the_import(flow, client_for):
    client = client_for("analyst")
    document = json.loads(client.get("/flows/invoices/io/export.json").content)
    document["flows"][0]["definition"]["steps"][1]["connection"] = "erp-eu"
    answer = client.post("/flows/invoices/io/import/", {"text": json.dumps(document), "action": "apply"})
    page = answer.content.decode()
    assert answer.status_code == 422 and 'data-testid="missing-connections-invoices"' in page and "erp-eu" in page
    assert Flow.objects.get(key="invoices").draft.definition == INVOICE_FLOW


@pytest.mark.parametrize("text", ["", "{", "[]", '{"format": "other"}', "\x00\x01ÿþ"])
def test_a_bad_file_is_a_form_error(flow, client_for, text):
    answer = client_for("analyst").post("/flows/invoices/io/import/", {"text": text, "action": "preview"})
    assert answer.status_code == 422 and 'data-testid="error-file"' in answer.content.decode()


def test_a_non_utf8_upload_is_a_form_error(flow, client_for):
    upload = SimpleUploadedFile("flows.json", b"\xff\xfe{\x00", content_type="application/json")
    answer = client_for("analyst").post("/flows/invoices/io/import/", {"file": upload, "action": "preview"})
    assert answer.status_code == 422 and "not UTF-8" in answer.content.decode()


def test_viewers_export_but_cannot_import(flow, client_for):
    client = client_for("viewer")
    assert 'data-testid="import-form"' not in client.get("/flows/invoices/io/").content.decode()
    assert client.post("/flows/invoices/io/import/", {"text": "{}"}).status_code == 403


def test_the_list_level_import_creates_new_flows(flow, client_for):
    client = client_for("analyst")
    document = json.loads(client.get("/flows/invoices/io/export.json").content)
    document["flows"][0].update(key="invoices-eu", name="Invoices EU")
    page = client.get("/flows/import/").content.decode()
    assert 'data-testid="import-form"' in page and 'data-testid="export"' not in page
    preview = client.post("/flows/import/", {"text": json.dumps(document), "action": "preview"}).content.decode()
    assert 'data-testid="plan-action-invoices-eu">new flow' in preview
    answer = client.post("/flows/import/", {"text": json.dumps(document), "action": "apply"})
    assert answer.status_code == 302 and Flow.objects.get(key="invoices-eu").name == "Invoices EU"
    assert client_for("viewer").get("/flows/import/").status_code == 403
