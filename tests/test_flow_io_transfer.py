"""Export / import of flow definitions: the round trip gives the identical definition, the
dry run says what changes, connections are bound by name, no secret ever travels."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.audit.models import AuditEntry
from integrations.connections.demo import demo_values
from integrations.connections.services import create_connection
from integrations.flows.demo import seed
from integrations.flows.models import Flow, FlowVersion
from integrations.flows.services import save_draft
from integrations.flowtests import transfer

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(personas):
    for vendor in ("salesforce", "kantata", "netsuite"):
        create_connection("system:test", name=vendor, kind=vendor, **demo_values(vendor))
    seed(io.StringIO())
    return personas


def export_text(*keys) -> str:
    out = io.StringIO()
    call_command("export_flows", *keys, stdout=out)
    return out.getvalue()


def test_export_then_import_into_an_empty_database_gives_the_identical_definition(demo, tmp_path):
    before = {f.key: (f.name, f.description, f.tags, f.draft.definition) for f in Flow.objects.all()}
    text = export_text()
    FlowVersion.objects.all().delete()
    Flow.objects.all().delete()
    path = tmp_path / "flows.json"
    with open(path, "w") as handle:
        handle.write(text)
    out = io.StringIO()
    call_command("import_flows", str(path), stdout=out)
    assert "create    opportunity-to-project" in out.getvalue()
    after = {f.key: (f.name, f.description, f.tags, f.draft.definition) for f in Flow.objects.all()}
    assert after == before and len(after) == 2
    assert export_text().split('"flows"')[1] == text.split('"flows"')[1]  # the same file again


def test_the_file_names_connections_but_carries_none_of_their_settings_or_secrets(demo):
    from integrations.connections.models import Connection

    text = export_text("opportunity-to-project")
    document = json.loads(text)
    assert document["flows"][0]["connections"] == [
        {"name": "kantata", "kind": "kantata"},
        {"name": "salesforce", "kind": "salesforce"},
    ]
    for connection in Connection.objects.all():
        for secret in connection.get_credentials().values():
            assert str(secret) not in text
        assert connection.base_url not in text


def test_a_dry_run_lists_field_changes_and_writes_nothing(demo, tmp_path):
    flow = Flow.objects.get(key="opportunity-to-project")
    document = json.loads(export_text("opportunity-to-project"))
    document["flows"][0]["definition"]["steps"][1]["fields"][1]["constant"] = "manager"
    document["flows"][0]["name"] = "Won deals → projects"
    path = tmp_path / "dry.json"
    with open(path, "w") as handle:
        json.dump(document, handle)
    audits = AuditEntry.objects.count()
    out = io.StringIO()
    call_command("import_flows", str(path), "--dry-run", stdout=out)
    text = out.getvalue()
    assert "update    opportunity-to-project  (2 field change(s))" in text
    assert "definition.steps[1].fields[1].constant: 'maven' → 'manager'" in text
    assert "name: 'Opportunity won → Kantata project' → 'Won deals → projects'" in text
    flow.refresh_from_db()
    assert flow.name == "Opportunity won → Kantata project" and AuditEntry.objects.count() == audits
    transfer.apply(document, demo["analyst"])
    flow.refresh_from_db()
    assert flow.name == "Won deals → projects"
    assert flow.draft.definition["steps"][1]["fields"][1]["constant"] == "manager"
    assert flow.live_version.definition["steps"][1]["fields"][1]["constant"] == "maven"  # live untouched
    assert AuditEntry.objects.filter(action="flow.import", object_id="opportunity-to-project").exists()


def test_missing_connections_are_reported_and_nothing_is_imported(demo):
    from integrations.connections.models import Connection

    document = json.loads(export_text())
    Flow.objects.all().delete()
    Connection.objects.filter(name="kantata").delete()
    found = transfer.plan(document)
    assert not found.ok
    by_key = {f.key: f for f in found.flows}
    assert by_key["opportunity-to-project"].missing_connections == ["kantata"]
    with pytest.raises(transfer.ImportInvalid):
        transfer.apply(document, demo["analyst"])
    assert Flow.objects.count() == 0  # all or nothing: the other flow was not imported either


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (lambda d: d["flows"][0].update(key="bad key!"), "flows[0].key", "letters, digits"),
        (lambda d: d["flows"][0]["definition"]["steps"][1].update(id="X"), "flows[0].definition.steps[1].id", ""),
        (lambda d: d["flows"][0]["definition"].update(api_token="abc"), "flows[0].definition.api_token", "secret"),
        (lambda d: d["flows"].append(dict(d["flows"][0])), "flows[1].key", "appears twice"),
    ],
)
def test_a_bad_flow_in_the_file_names_the_field(demo, mutate, field, message):
    document = json.loads(export_text("opportunity-to-project"))
    mutate(document)
    found = transfer.plan(document)
    errors = [e for f in found.flows for e in f.errors]
    assert any(e["field"] == field and message in e["message"] for e in errors), errors


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a Switchboard flow export"),
        (b'{"format": "switchboard.flows", "format_version": 1, "flows": []}', "non-empty list"),
    ],
)
def test_a_file_that_is_not_an_export_is_refused_clearly(raw, message):
    with pytest.raises(transfer.ImportInvalid) as caught:
        transfer.parse(raw)
    assert caught.value.field == "file" and message in caught.value.message


def test_import_command_refuses_a_missing_file_without_a_traceback(db):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_flows", "/nonexistent/studioc-no-such-file.json")


def test_an_unchanged_flow_is_reported_unchanged(demo):
    document = json.loads(export_text("approved-time-to-netsuite"))
    found = transfer.plan(document)
    assert [(f.key, f.action, f.changes) for f in found.flows] == [("approved-time-to-netsuite", "unchanged", [])]


def test_import_updates_only_the_draft(demo):
    flow = Flow.objects.get(key="approved-time-to-netsuite")
    definition = json.loads(json.dumps(flow.draft.definition))
    definition["steps"][1]["fields"][4]["default"] = "no notes"
    save_draft(flow, demo["analyst"], definition)
    document = json.loads(export_text("approved-time-to-netsuite"))
    save_draft(flow, demo["analyst"], flow.live_version.definition)
    transfer.apply(document, demo["analyst"])
    assert Flow.objects.get(pk=flow.pk).draft.definition == definition
