"""The keys a flow declares for ownership and the crosswalk: accepted by the definition
checks when they name canonical objects, refused at the field at fault when they do not,
and read by the runtime as declared."""

from integrations.crosswalk.declaration import canonical_field_map, declared, link_of, value_at
from integrations.flows.engine_api import errors_as_dicts, validate_definition

FLOW = {
    "canonical": {"object": "worker", "source": "kantata", "id": "$.user.id"},
    "trigger": {"type": "manual"},
    "steps": [
        {"id": "erp", "type": "deliver", "connection": "netsuite", "object": "employee", "action": "upsert",
         "key": "k-{{ input.user.id }}", "canonical_fields": {"laborCost": "cost_rate"}},
        {"id": "client", "type": "deliver", "connection": "netsuite", "object": "customer", "action": "upsert",
         "key": "c-{{ input.account }}", "link": {"object": "client", "id": "$.account"}},
    ],
}  # fmt: skip


def test_a_declared_flow_is_valid_and_reads_as_declared():
    assert validate_definition(FLOW) == []
    decl = declared(FLOW)
    assert (decl.object, decl.source, decl.id_path) == ("worker", "kantata", "$.user.id")
    assert canonical_field_map(FLOW, "erp") == {"laborCost": "cost_rate"}
    assert link_of(FLOW, "erp") == ("worker", "$.user.id") and link_of(FLOW, "client") == ("client", "$.account")
    assert value_at("$.user.id", {"user": {"id": 20301}}) == "20301" and value_at("$.nope", {}) is None
    assert declared({"steps": []}) is None and link_of({"steps": []}, "erp") is None


def test_unknown_objects_and_bad_shapes_are_named_at_their_field():
    wrong = {**FLOW, "canonical": {"object": "wroker", "source": "kantata"},
             "steps": [{**FLOW["steps"][1], "link": {"object": "Customer Account"}}]}  # fmt: skip
    fields = {e["field"]: e["message"] for e in errors_as_dicts(validate_definition(wrong))}
    assert "there is no canonical object 'wroker'" in fields["canonical.object"]
    assert "must be a lower-case name" in fields["steps[0].link.object"]
    # A crosswalk identity with no canonical schema (a task standing for unfilled roles) may be linked.
    demand = {**FLOW, "steps": [FLOW["steps"][0], {**FLOW["steps"][1], "link": {"object": "resource_demand"}}]}
    assert validate_definition(demand) == []
    no_source = errors_as_dicts(validate_definition({**FLOW, "canonical": {"object": "worker"}}))
    assert {"step_id": None, "field": "canonical.source", "message": "is required"} in no_source
