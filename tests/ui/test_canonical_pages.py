"""Canonical objects pages: every object listed; an object's fields with type, required,
description, example and allowed values; where each field is used (linking to the flow);
search; versions with a diff that marks breaking changes and the mappings they affect."""

import json
import shutil

import pytest

from integrations.canonical import registry
from integrations.flows.services import create_flow, save_draft

pytestmark = pytest.mark.django_db

PROJECT_FLOW = {
    "trigger": {"type": "manual"},
    "steps": [
        {"id": "shape", "type": "map", "target": "project@1", "fields": [
            {"to": "name", "from": "$.Name", "required": True},
            {"to": "status", "constant": "won"},
        ]},
        {"id": "big", "type": "validate",
         "rules": [{"when": "record.status == 'won' and record.name == ''", "message": "no name"}]},
    ],
}  # fmt: skip


def test_the_list_shows_every_object_with_its_version_and_users(client_for, personas):
    create_flow(personas["analyst"], key="won-deals", name="Won deals", definition=PROJECT_FLOW)
    page = client_for("viewer").get("/canonical/").content.decode()
    for name in registry.list_objects():
        assert f'data-testid="canonical-row-{name}"' in page and f"{name}@1" in page
    row = page[page.index('data-testid="canonical-row-project"') :]
    assert '<a href="/flows/won-deals/">won-deals</a>' in row[: row.index("</tr>")]


def test_an_object_page_shows_fields_with_type_required_example_and_allowed_values(client_for):
    page = client_for("viewer").get("/canonical/project/").content.decode()
    assert 'data-testid="field-status"' in page
    enum = page[page.index('data-testid="enum-status"') :]
    assert all(f"<code>{v}</code>" in enum[: enum.index("</ul>")] for v in ("pipeline", "won", "cancelled"))
    assert 'data-testid="required-name"' in page or 'data-testid="required-id"' in page
    start = page[page.index('data-testid="field-start_date"') :]
    assert "2026-03-01" in start[: start.index("</tr>")]  # an example of the date format
    assert 'data-testid="single-version"' in page


def test_where_used_lists_the_flows_and_mapping_rows_that_write_and_read_a_field(client_for, personas):
    create_flow(personas["analyst"], key="won-deals", name="Won deals", definition=PROJECT_FLOW)
    page = client_for("viewer").get("/canonical/project/").content.decode()
    used = page[page.index('data-testid="used-status"') :]
    used = used[: used.index("</ul>")]
    assert '<a href="/flows/won-deals/">won-deals draft</a>' in used
    assert "<code>shape</code> writes" in used and "steps[0].fields[1]" in used
    assert "<code>big</code> reads" in used


def test_search_filters_fields_by_name_or_description(client_for):
    client = client_for("viewer")
    page = client.get("/canonical/project/?q=start").content.decode()
    assert 'data-testid="field-start_date"' in page and 'data-testid="field-status"' not in page
    empty = client.get("/canonical/project/?q=zzzz-nothing").content.decode()
    assert 'data-testid="canonical-no-match"' in empty


def test_unknown_object_is_404_and_odd_parameters_are_harmless(client_for):
    client = client_for("viewer")
    assert client.get("/canonical/no_such_thing/").status_code == 404
    for query in ("?version=99", "?version=-1", "?version=1e9", "?from=abc&to=%ff", "?q=" + "x" * 5000):
        assert client.get("/canonical/project/" + query).status_code == 200


def test_outsiders_cannot_read_the_pages(client_for):
    assert client_for("outsider").get("/canonical/").status_code == 403
    assert client_for("outsider").get("/canonical/project/").status_code == 403


@pytest.fixture
def second_version(tmp_path, monkeypatch):
    """A project@2 in which 'status' loses a value and a new required field appears."""
    root = tmp_path / "schemas"
    shutil.copytree(registry.SCHEMA_DIR, root)
    schema = json.loads((root / "project" / "v1.json").read_text())
    schema["properties"]["status"]["enum"].remove("won")
    schema["properties"]["sponsor"] = {"type": "string", "description": "who pays"}
    schema["required"] = [*schema.get("required", []), "sponsor"]
    (root / "project" / "v2.json").write_text(json.dumps(schema))
    monkeypatch.setattr(registry, "SCHEMA_DIR", root)
    registry._load.cache_clear()
    yield
    registry._load.cache_clear()


def test_versions_are_compared_with_breaking_changes_and_the_mappings_they_affect(second_version, client_for, personas):
    flow = create_flow(personas["analyst"], key="won-deals", name="Won deals", definition=PROJECT_FLOW)
    save_draft(flow, personas["analyst"], PROJECT_FLOW)
    page = client_for("viewer").get("/canonical/project/").content.decode()
    assert "project@2" in page and 'data-testid="version-diff"' in page
    assert "v1 → v2" in page and 'data-testid="breaking-count">2 breaking' in page
    status = page[page.index('data-testid="diff-status"') :]
    status = status[: status.index("</tr>")]
    assert "values removed: won" in status and "won-deals draft" in status
    sponsor = page[page.index('data-testid="diff-sponsor"') :]
    assert "new required field" in sponsor[: sponsor.index("</tr>")]
    old = client_for("viewer").get("/canonical/project/?version=1&from=1&to=2").content.decode()
    assert 'data-testid="field-sponsor"' not in old and "v1 → v2" in old
