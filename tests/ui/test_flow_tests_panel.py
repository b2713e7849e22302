"""The test panel: a test-run from pasted JSON, a file, an earlier run or a connection's
record shows each step and the deliveries it would make (simulated); samples are pinned
with their expected output and checked before publishing, with a field-level diff."""

import html
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from integrations.audit.models import AuditEntry
from integrations.deliveries.models import Delivery
from integrations.flows.services import create_flow, publish, save_draft
from integrations.flowtests import regression
from integrations.flowtests.models import Sample
from integrations.runs.models import Run
from tests.runtime.conftest import INVOICE_FLOW

pytestmark = pytest.mark.django_db
URL = "/flows/invoices/test/"


@pytest.fixture
def flow(personas):
    return create_flow(personas["analyst"], key="invoices", name="Invoices", definition=INVOICE_FLOW)


def test_a_pasted_record_shows_every_step_and_the_simulated_delivery(flow, client_for):
    answer = client_for("analyst").post(URL, {"source": "paste", "record": '{"id": "INV-7", "amount": 120}'})
    page = answer.content.decode()
    assert answer.status_code == 200
    assert 'data-testid="test-status">completed' in page
    assert 'data-testid="step-status-shape">succeeded' in page and 'data-testid="simulated-post"' in page
    assert "invoice:INV-7" in page and 'data-testid="delivery-1"' in page
    assert 'data-testid="duration-shape"' in page
    assert Delivery.objects.count() == 0 and Run.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"source": "paste", "record": "{oops"}, "record", "not valid JSON"),
        ({"source": "paste", "record": "[1, 2]"}, "record", "must be a JSON object"),
        ({"source": "run", "run": "999"}, "run", "this flow has no run #999"),
        ({"source": "run", "run": "abc"}, "run", "give the number of a run"),
        ({"source": "connection", "connection": "nope"}, "connection", "pick a connection"),
        ({"source": "sample", "sample": "1"}, "sample", "pick one of this flow's pinned samples"),
        ({"source": "paste", "record": "{}", "version": "7"}, "version", "no published version '7'"),
        ({"source": "file"}, "file", "choose a .json file"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(flow, client_for, data, field, message):
    answer = client_for("analyst").post(URL, data)
    assert answer.status_code == 422
    page = html.unescape(answer.content.decode())
    assert f'data-testid="error-{field}"' in page and message in page


def test_an_uploaded_file_is_tested_and_a_non_utf8_one_is_refused(flow, client_for):
    client = client_for("analyst")
    good = SimpleUploadedFile("inv.json", b'{"id": "INV-9", "amount": 5}', content_type="application/json")
    assert "invoice:INV-9" in client.post(URL, {"source": "file", "file": good}).content.decode()
    bad = SimpleUploadedFile("inv.json", b"\xff\xfe\x00{", content_type="application/json")
    answer = client.post(URL, {"source": "file", "file": bad})
    assert answer.status_code == 422 and "not UTF-8" in answer.content.decode()


def test_the_input_of_an_earlier_run_is_reused(flow, client_for, personas):
    version = publish(flow, personas["analyst"], notes="v1")
    run = Run.objects.create(flow_version=version, trigger="manual", input={"id": "INV-42", "amount": 1})
    answer = client_for("analyst").post(URL, {"source": "run", "run": f"#{run.pk}"})
    assert "invoice:INV-42" in answer.content.decode() and f"run #{run.pk}" in answer.content.decode()


def test_htmx_gets_only_the_result_fragment(flow, client_for):
    answer = client_for("analyst").post(
        URL, {"source": "paste", "record": '{"id": "A", "amount": 1}'}, HTTP_HX_REQUEST="true"
    )
    page = answer.content.decode()
    assert 'data-testid="test-result"' in page and "<html" not in page


def test_only_flow_editors_can_test(flow, client_for):
    assert client_for("viewer").get(URL).status_code == 403
    assert client_for("operator").post(URL, {"record": "{}"}).status_code == 403
    assert client_for("analyst").get(URL).status_code == 200
    assert client_for("analyst").get("/flows/no-such-flow/test/").status_code == 404


def pin(client, name, record, keep=True):
    answer = client.post(URL, {"source": "paste", "record": json.dumps(record)})
    assert answer.status_code == 200
    # the expected output is the one the page offers: take it from the pin form
    page = answer.content.decode()
    start = page.index('name="expected"')
    expected = page[page.index(">", start) + 1 : page.index("</textarea>", start)]
    data = {"name": name, "record": json.dumps(record), "expected": html.unescape(expected), "source_label": "pasted"}
    if keep:
        data["keep_output"] = "1"
    return client.post(URL + "samples/", data)


def test_pinning_with_the_output_makes_a_regression_sample_that_catches_a_change(flow, client_for, personas):
    client = client_for("analyst")
    assert pin(client, "Big invoice", {"id": "INV-1", "amount": 120}).status_code == 302
    sample = Sample.objects.get()
    assert sample.expected["record"] == {"external_ref": "INV-1", "amount": 120, "currency": "EUR"}
    assert AuditEntry.objects.filter(action="flow.sample.pin").count() == 1
    assert regression.failures(flow, flow.draft) == []
    changed = json.loads(json.dumps(INVOICE_FLOW))
    changed["steps"][0]["fields"][2]["constant"] = "USD"
    save_draft(flow, personas["analyst"], changed)
    found = regression.failures(flow, flow.draft)
    assert [f["sample"] for f in found] == ["Big invoice"]
    assert found[0]["diff"] == [{"field": "record.currency", "expected": "EUR", "actual": "USD"}]
    page = client.post(URL + "regression/").content.decode()
    assert "1 of 1 regression sample(s) fail" in page and "record.currency" in page


def test_a_sample_without_expected_output_is_not_checked(flow, client_for):
    assert pin(client_for("analyst"), "Just input", {"id": "X", "amount": 1}, keep=False).status_code == 302
    assert Sample.objects.get().expected is None and regression.failures(flow, flow.draft) == []


def test_a_duplicate_or_blank_name_is_a_form_error_and_nothing_is_written(flow, client_for):
    client = client_for("analyst")
    pin(client, "One", {"id": "X", "amount": 1})
    for name, message in (("One", "already has a sample named"), ("   ", "give the sample a name")):
        answer = client.post(URL + "samples/", {"name": name, "record": '{"id": 1}'})
        assert answer.status_code == 422 and message in answer.content.decode()
        assert 'data-testid="pin-form"' in answer.content.decode()  # offered again, error at the name
    assert Sample.objects.count() == 1


def test_a_sample_is_edited_and_deleted(flow, client_for):
    client = client_for("analyst")
    pin(client, "One", {"id": "X", "amount": 1})
    sample = Sample.objects.get()
    edit = f"{URL}samples/{sample.pk}/"
    bad = client.post(edit, {"name": "One", "record": '{"id": 1}', "expected": "[not json"})
    assert bad.status_code == 422 and "not valid JSON" in bad.content.decode()
    assert (
        client.post(edit, {"name": "Renamed", "record": '{"id": "Y", "amount": 2}', "expected": ""}).status_code == 302
    )
    sample.refresh_from_db()
    assert (sample.name, sample.record, sample.expected) == ("Renamed", {"id": "Y", "amount": 2}, None)
    assert client.post(f"{edit}delete/").status_code == 302
    assert not Sample.objects.exists()
    assert AuditEntry.objects.filter(action__startswith="flow.sample.").count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_demo_flow_test_run_reads_the_opportunity_for_real(live_server, settings, client_for):
    """Before, a dry run skipped look-ups and the demo flow failed with 'title is required'."""
    from integrations.connections.demo import demo_values
    from integrations.connections.models import Connection
    from integrations.connections.services import create_connection
    from integrations.connectors.registry import get_connector
    from integrations.flows.demo import seed
    from tests.connectors.contract import use_sandboxes

    use_sandboxes(live_server, settings)
    for vendor in ("salesforce", "kantata"):
        create_connection("system:test", name=vendor, kind=vendor, **demo_values(vendor))
    seed(io.StringIO())
    salesforce = get_connector(Connection.objects.get(name="salesforce"))
    opportunity = salesforce.create(
        "Opportunity", {"Name": "Acme platform", "StageName": "Closed Won", "CloseDate": "2026-03-01", "Amount": 90000}
    ).remote_id
    client = client_for("analyst")
    url = "/flows/opportunity-to-project/test/"
    answer = client.post(url, {"source": "paste", "record": json.dumps({"Id": opportunity})})
    page = answer.content.decode()
    assert 'data-testid="test-status">completed' in page, page[page.find("test-error") - 50 :][:400]
    assert "Acme platform" in page and 'data-testid="simulated-workspace"' in page
    picked = client.post(
        url, {"source": "connection", "connection": "salesforce", "object": "Opportunity", "record_id": opportunity}
    )
    assert 'data-testid="test-status">completed' in picked.content.decode()
    listed = client.post(url, {"action": "browse", "connection": "salesforce", "object": "Opportunity"})
    assert 'data-testid="browse-use-1"' in listed.content.decode()
    kantata = get_connector(Connection.objects.get(name="kantata"))
    assert not [w for w in kantata.query("workspaces").records if w.get("title") == "Acme platform"]
