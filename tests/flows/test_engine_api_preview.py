"""engine_api's previews for the studio panels: one mapping row, a template, a condition, each
with the value or the message a run would give (no database)."""

from integrations.flows import engine_api
from integrations.flows.services import validate

RECORD = {"Name": "Acme", "CloseDate": "2026-03-01", "Amount": "12.5", "Region": "Europe"}
NESTED = "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}"


def test_a_row_previews_as_a_run_maps_it():
    assert engine_api.preview_field({"to": "name", "from": "$.Name"}, RECORD).value == "Acme"
    assert engine_api.preview_field({"to": "a.b", "from": "$.Amount", "type": "money"}, RECORD).value == 12.5
    regions = {"regions": {"Europe": "EMEA"}}
    assert (
        engine_api.preview_field({"to": "r", "from": "$.Region", "value_map": "regions"}, RECORD, regions).value
        == "EMEA"
    )
    missing = engine_api.preview_field({"to": "x", "from": "$.Nope"}, RECORD)
    assert not missing.present and not missing.error  # left out of the output, as a run would


def test_a_row_reports_the_engines_message_and_the_part_at_fault():
    broken = engine_api.preview_field({"to": "x", "template": "{{ record.Name | upper "}, RECORD)
    assert broken.error.startswith("template does not compile") and broken.error_field == "template"
    required = engine_api.preview_field({"to": "x", "from": "$.Nope", "required": True}, RECORD)
    assert required.error == "x is required but missing (from $.Nope)"
    assert "is not a number" in engine_api.preview_field({"to": "x", "from": "$.Name", "type": "number"}, RECORD).error
    linked = engine_api.preview_field(
        {"to": "c", "from": "$.Name", "crosswalk": {"object": "client", "system": "salesforce"}},
        RECORD,
        crosswalk=lambda obj, system, value: None,
    )
    assert "no client is linked to salesforce id 'Acme'" in linked.error
    huge = engine_api.preview_field({"to": "x", "template": "{{ 'x' * 100000000 }}"}, RECORD)
    assert "SWITCHBOARD_TEMPLATE_MAX_OUTPUT" in huge.error


def test_conditions_and_templates():
    assert engine_api.evaluate_condition("record.Name == 'Acme'", RECORD) == (True, "")
    result, problem = engine_api.evaluate_condition("record.Nope == 1", RECORD)
    assert result is None and "has no attribute 'Nope'" in problem
    assert engine_api.check_condition("record.Name ==").startswith("condition does not parse")
    assert engine_api.preview_template("Deal {{ record.Name }}", RECORD) == ("Deal Acme", "")
    assert engine_api.preview_template("{{ record.Name", RECORD)[1].startswith("template does not compile")


def test_a_deeply_nested_template_is_an_error_not_a_crash():
    assert engine_api.preview_template(NESTED, RECORD)[1] == "template does not compile: it is nested too deeply"
    assert "nested too deeply" in engine_api.check_condition(NESTED[3:-3])
    definition = {
        "trigger": {"type": "manual"},
        "steps": [{"id": "m", "type": "map", "fields": [{"to": "x", "template": NESTED}]}],
    }
    assert validate(definition) == [
        {
            "step_id": "m",
            "field": "steps[0].fields[0].template",
            "message": "template does not compile: it is nested too deeply",
        }
    ]
