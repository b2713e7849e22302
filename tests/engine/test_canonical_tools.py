"""Schema browser helpers: field list, version diff with breaking changes, where used."""

import copy

from integrations.canonical.diff import diff_schemas
from integrations.canonical.fields import field_list
from integrations.canonical.registry import get_schema
from integrations.canonical.usage import affected_by, where_used


def test_field_list_flattens_nested_objects_and_lists():
    fields = {f.path: f for f in field_list("client", 1)}
    assert fields["name"].required and fields["name"].types == ("string",)
    assert fields["billing_address.city"].types == ("string",)
    assert fields["status"].enum == ("prospect", "active", "on_hold", "inactive")
    assert fields["industry"].nullable and not fields["industry"].required
    rates = {f.path for f in field_list("rate_card", 1)}
    assert {"rates", "rates[].role", "rates[].hourly_rate"} <= rates
    assert fields["billing_currency"].constraints == {"pattern": "^[A-Z]{3}$"}


def test_identical_versions_have_no_changes():
    schema = get_schema("project", 1)
    assert diff_schemas(schema, copy.deepcopy(schema)) == []


def test_breaking_and_compatible_changes():
    old = get_schema("project", 1)
    new = copy.deepcopy(old)
    props = new["properties"]
    del props["practice"]  # removed: breaking
    props["cost_center"] = {"type": ["string", "null"]}  # optional addition: compatible
    props["sow_number"] = {"type": "string"}
    new["required"].append("sow_number")  # required addition: breaking
    props["status"]["enum"].remove("cancelled")  # enum narrowed: breaking
    props["billing_type"]["enum"].append("milestone")  # enum widened: compatible
    props["name"]["maxLength"] = 100  # tightened: breaking
    props["description"]["maxLength"] = 8000  # loosened: compatible
    props["region"]["type"] = "string"  # null no longer allowed: breaking
    changes = {(c.path, c.reason): c.breaking for c in diff_schemas(old, new)}
    assert changes == {
        ("practice", "field removed"): True,
        ("cost_center", "new optional field"): False,
        ("sow_number", "new required field"): True,
        ("status", "values removed: cancelled"): True,
        ("billing_type", "values added: milestone"): False,
        ("name", "maxLength 255 → 100"): True,
        ("description", "maxLength 4000 → 8000"): False,
        ("region", "null no longer allowed"): True,
    }


FLOW = {
    "trigger": {"type": "manual"},
    "steps": [
        {
            "id": "project",
            "type": "map",
            "target": "project@1",
            "fields": [
                {"to": "name", "from": "$.Name"},
                {"to": "region", "from": "$.Region"},
                {"to": "unknown", "from": "$.x"},
                {"to": "external_ids.salesforce", "from": "$.Id"},
            ],
        },
        {
            "id": "check",
            "type": "validate",
            "schema": "project@1",
            "rules": [{"when": "record.contract_value > 100", "message": "big"}],
        },
        {"id": "by_region", "type": "route", "rules": [{"name": "e", "when": "record.region == 'EMEA'", "to": "erp"}]},
        {
            "id": "erp",
            "type": "deliver",
            "connection": "ns",
            "object": "job",
            "action": "upsert",
            "key": "{{ record.crm_opportunity_id }}",
        },
    ],
}


def test_where_used_lists_writers_readers_and_validators():
    used = where_used("project", 1, [("Opportunity won v3", FLOW)])
    modes = {path: sorted({(u.step_id, u.mode) for u in usages}) for path, usages in used.items()}
    assert modes["name"] == [("check", "validates"), ("project", "writes")]
    assert modes["region"] == [("by_region", "reads"), ("check", "validates"), ("project", "writes")]
    assert ("check", "reads") in modes["contract_value"]
    assert ("erp", "reads") in modes["crm_opportunity_id"]
    assert ("project", "writes") in modes["external_ids"]
    assert "unknown" not in used
    region_read = next(u for u in used["region"] if u.mode == "reads")
    assert (region_read.flow, region_read.location) == ("Opportunity won v3", "steps[2].rules[0].when")


def test_where_used_ignores_other_objects_and_reads_before_the_map():
    other = {
        "trigger": {"type": "manual"},
        "steps": [
            {"id": "pre", "type": "route", "rules": [{"name": "x", "when": "record.region == 'EU'", "to": "m"}]},
            {"id": "m", "type": "map", "target": "client@1", "fields": [{"to": "name", "from": "$.n"}]},
        ],
    }
    assert where_used("project", 1, [("other", other)]) == {}


def test_breaking_changes_list_the_mappings_they_affect():
    old = get_schema("project", 1)
    new = copy.deepcopy(old)
    del new["properties"]["region"]
    new["properties"]["description"]["maxLength"] = 9000
    used = where_used("project", 1, [("flow", FLOW)])
    affected = affected_by(diff_schemas(old, new), used)
    assert list(affected) == ["region"]
    assert {u.step_id for u in affected["region"]} == {"project", "check", "by_region"}
