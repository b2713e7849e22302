"""Save-time validation: every error names the step and the field at fault."""

import copy

import pytest

from integrations.engine import DefinitionInvalid, compile_flow, validate_definition

from .conftest import flow, map_step

GOOD = {
    "trigger": {"type": "event", "connection": "salesforce", "event": "opportunity.won"},
    "value_maps": {"regions": {"Europe": "EMEA"}},
    "steps": [
        {
            "id": "project",
            "type": "map",
            "target": "project@1",
            "fields": [
                {"to": "name", "from": "$.Name", "required": True},
                {"to": "client_id", "from": "$.AccountId", "crosswalk": {"object": "client", "system": "salesforce"}},
                {"to": "start_date", "from": "$.CloseDate", "template": "{{ value | as_date }}"},
                {"to": "region", "from": "$.Region__c", "value_map": "regions", "default": "NA"},
            ],
        },
        {
            "id": "big_deal",
            "type": "approve",
            "when": "record.contract_value > 250000",
            "group": "leads",
            "sla_hours": 24,
        },
        {
            "id": "by_region",
            "type": "route",
            "rules": [{"name": "emea", "when": "record.region == 'EMEA'", "to": "erp_emea"}],
            "otherwise": "erp_na",
        },
        {
            "id": "erp_emea",
            "type": "deliver",
            "connection": "ns_emea",
            "object": "job",
            "action": "upsert",
            "key": "{{ record.name }}",
        },
        {
            "id": "erp_na",
            "type": "deliver",
            "connection": "ns_na",
            "object": "job",
            "action": "upsert",
            "key": "{{ record.name }}",
        },
    ],
}


def errors_of(defn):
    return {(e.step_id, e.field): e.message for e in validate_definition(defn)}


def broken(mutate):
    defn = copy.deepcopy(GOOD)
    mutate(defn)
    return errors_of(defn)


def test_the_design_sketch_is_valid():
    assert validate_definition(GOOD) == []


def test_not_an_object():
    assert errors_of([1, 2]) == {(None, "definition"): "a flow definition is a JSON object"}


def test_missing_required_field_of_a_step_is_named():
    errors = broken(lambda d: d["steps"][3].pop("key"))
    assert errors == {("erp_emea", "steps[3].key"): "is required"}


def test_unknown_property_is_named():
    errors = broken(lambda d: d["steps"][0]["fields"][0].update(form="$.Name"))
    assert list(errors) == [("project", "steps[0].fields[0]")]
    assert "'form' was unexpected" in errors[("project", "steps[0].fields[0]")]


def test_unknown_step_type():
    errors = broken(lambda d: d["steps"][1].update(type="sleep"))
    assert ("big_deal", "steps[1].type") in errors


def test_bad_jsonpath_names_the_field():
    errors = broken(lambda d: d["steps"][0]["fields"][1].update({"from": "$.Account[?(@.x ="}))
    assert list(errors) == [("project", "steps[0].fields[1].from")]
    assert "not a valid JSONPath" in errors[("project", "steps[0].fields[1].from")]


def test_template_syntax_error_names_the_field():
    errors = broken(lambda d: d["steps"][0]["fields"][2].update(template="{{ value | as_date "))
    assert list(errors) == [("project", "steps[0].fields[2].template")]
    assert "does not compile" in next(iter(errors.values()))


def test_condition_syntax_error_names_the_field():
    errors = broken(lambda d: d["steps"][2]["rules"][0].update(when="record.region ==="))
    assert list(errors) == [("by_region", "steps[2].rules[0].when")]


def test_step_when_syntax_error():
    errors = broken(lambda d: d["steps"][1].update(when="record.x >"))
    assert list(errors) == [("big_deal", "steps[1].when")]


def test_duplicate_step_ids():
    errors = broken(lambda d: d["steps"][4].update(id="erp_emea"))
    assert "already used by steps[3]" in errors[("erp_emea", "steps[4].id")]


def test_route_target_must_exist_and_come_later():
    errors = broken(lambda d: d["steps"][2]["rules"][0].update(to="nowhere"))
    assert errors == {("by_region", "steps[2].rules[0].to"): "there is no step 'nowhere'"}
    errors = broken(lambda d: d["steps"][2].update(otherwise="project"))
    assert "must come after" in errors[("by_region", "steps[2].otherwise")]


def test_a_step_can_be_the_target_of_one_route_only():
    def second_route(d):
        d["steps"].insert(3, {"id": "again", "type": "route", "rules": [{"name": "x", "when": "true", "to": "erp_na"}]})

    errors = broken(second_route)
    assert "already a target of route 'by_region'" in errors[("again", "steps[3].rules[0].to")]


def test_value_map_must_exist():
    errors = broken(lambda d: d.pop("value_maps"))
    assert "no value map 'regions'" in errors[("project", "steps[0].fields[3].value_map")]


def test_canonical_target_must_exist():
    errors = broken(lambda d: d["steps"][0].update(target="project@7"))
    assert "no canonical object project@7" in errors[("project", "steps[0].target")]
    errors = broken(lambda d: d["steps"][0].update(target="Project"))
    assert ("project", "steps[0].target") in errors


def test_crosswalk_object_must_be_canonical():
    errors = broken(lambda d: d["steps"][0]["fields"][1]["crosswalk"].update(object="account"))
    assert ("project", "steps[0].fields[1].crosswalk.object") in errors


def test_field_needs_a_source():
    errors = errors_of(flow(map_step({"to": "x", "required": True})))
    assert errors == {("m", "steps[0].fields[0]"): "a field needs a source: from, template, constant or default"}


def test_two_fields_writing_the_same_output():
    errors = errors_of(flow(map_step({"to": "a", "from": "$.a"}, {"to": "a", "from": "$.b"})))
    assert "already set by fields[0]" in errors[("m", "steps[0].fields[1].to")]
    errors = errors_of(flow(map_step({"to": "a", "from": "$.a"}, {"to": "a.b", "from": "$.b"})))
    assert ("m", "steps[0].fields[0].to") in errors


@pytest.mark.parametrize(
    ("cron", "fragment"),
    [
        ("* * * *", "5 fields"),
        ("61 * * * *", "out of range"),
        ("*/0 * * * *", "step of 0"),
        ("0 9 * * funday", "out of range"),
    ],
)
def test_schedule_cron_is_checked(cron, fragment):
    errors = errors_of(
        {"trigger": {"type": "schedule", "cron": cron}, "steps": GOOD["steps"], "value_maps": GOOD["value_maps"]}
    )
    assert fragment in errors[(None, "trigger.cron")]


def test_valid_cron_and_timezone():
    defn = {**GOOD, "trigger": {"type": "schedule", "cron": "0 6 * * mon-fri", "timezone": "Europe/Paris"}}
    assert validate_definition(defn) == []
    defn["trigger"]["timezone"] = "Mars/Olympus"
    assert "unknown time zone" in errors_of(defn)[(None, "trigger.timezone")]


def test_trigger_shape_per_type():
    errors = errors_of({**GOOD, "trigger": {"type": "event", "connection": "sf"}})
    assert errors == {(None, "trigger.event"): "is required"}


def test_approve_on_reject_target():
    errors = broken(lambda d: d["steps"][1].update(on_reject="project"))
    assert "must come after" in errors[("big_deal", "steps[1].on_reject")]
    assert (
        validate_definition(
            {**GOOD, "steps": [*GOOD["steps"][:1], {**GOOD["steps"][1], "on_reject": "erp_na"}, *GOOD["steps"][2:]]}
        )
        == []
    )


def test_validate_step_needs_schema_or_rules():
    errors = errors_of(flow({"id": "v", "type": "validate"}))
    assert errors == {("v", "steps[0]"): "a validate step needs a schema, rules, or both"}


def test_every_error_is_reported_at_once():
    def many(d):
        d["steps"][0]["fields"][2]["template"] = "{{"
        d["steps"][2]["rules"][0]["to"] = "nowhere"
        d["steps"][3].pop("action")

    assert len(broken(many)) == 3


def test_compile_flow_raises_with_all_errors():
    with pytest.raises(DefinitionInvalid) as raised:
        compile_flow(flow(map_step({"to": "x", "from": "no-dollar"})))
    assert [e.field for e in raised.value.errors] == ["steps[0].fields[0].from"]


def test_compile_is_cached_by_content():
    plan = compile_flow(copy.deepcopy(GOOD))
    assert compile_flow(copy.deepcopy(GOOD)) is plan
    assert plan.first_step_id == "project"
    assert plan.step("by_region").type == "route"
    assert [s.id for s in plan.steps] == ["project", "big_deal", "by_region", "erp_emea", "erp_na"]
    assert plan.trigger["event"] == "opportunity.won"
    changed = copy.deepcopy(GOOD)
    changed["steps"][3]["key"] = "{{ record.name }}-v2"
    assert compile_flow(changed) is not plan


def test_unknown_step_id_is_a_key_error():
    with pytest.raises(KeyError):
        compile_flow(GOOD).step("nope")


def test_unbounded_template_is_a_definition_error():
    nested = "{% for a in value %}{% for b in value %}x{% endfor %}{% endfor %}"
    errors = errors_of(flow(map_step({"to": "x", "from": "$.a", "template": nested})))
    assert errors == {
        ("m", "steps[0].fields[0].template"): "template does not compile: "
        "loops cannot be nested or recursive in flow templates (line 1)"
    }
