"""The map step: sources, templates, value maps, crosswalk, defaults, types, required."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.engine import compile_flow, run

from .conftest import FakeEffects, flow, map_step


def mapped(*fields, record, effects=None, **step):
    outcome = run(
        compile_flow(flow(map_step(*fields, **step), value_maps={"regions": {"Europe": "EMEA"}})),
        record,
        effects or FakeEffects(),
    )
    return outcome


def test_paths_constants_and_nested_outputs():
    outcome = mapped(
        {"to": "name", "from": "$.Name"},
        {"to": "account.name", "from": "$.Account.Name"},
        {"to": "account.city", "from": "$.Account.Address.city"},
        {"to": "first_line", "from": "$.Lines[0].sku"},
        {"to": "status", "constant": "won"},
        record={"Name": "Acme", "Account": {"Name": "Acme Inc", "Address": {"city": "Lyon"}}, "Lines": [{"sku": "S1"}]},
    )
    assert outcome.status == "completed"
    assert outcome.record == {
        "name": "Acme",
        "account": {"name": "Acme Inc", "city": "Lyon"},
        "first_line": "S1",
        "status": "won",
    }


def test_missing_is_left_out_and_null_is_kept():
    outcome = mapped(
        {"to": "a", "from": "$.a"},
        {"to": "b", "from": "$.b"},
        {"to": "c", "from": "$.x.y"},
        record={"b": None, "x": "not an object"},
    )
    assert outcome.record == {"b": None}


@pytest.mark.parametrize("record", [{}, {"Region": None}])
def test_default_when_missing_or_null(record):
    outcome = mapped(
        {"to": "region", "from": "$.Region", "default": "NA"},
        {"to": "tags", "from": "$.T", "default": []},
        record=record,
    )
    assert outcome.record == {"region": "NA", "tags": []}


@pytest.mark.parametrize("record", [{}, {"Name": None}, {"Name": "x"}])
def test_required(record):
    outcome = mapped(
        {"to": "name", "from": "$.Name", "required": True}, {"to": "n", "from": "$.N", "type": "integer"}, record=record
    )
    if record.get("Name"):
        assert outcome.status == "completed"
        return
    assert outcome.status == "failed"
    assert outcome.error.kind == "mapping"
    assert outcome.error.field == "name"
    assert outcome.error.message == "name is required but missing (from $.Name)"
    assert outcome.error.classification == "permanent"
    assert outcome.steps[0].status == "failed"
    assert outcome.steps[0].input == record


def test_templates_on_values_and_on_the_record():
    outcome = mapped(
        {"to": "start", "from": "$.CloseDate", "template": "{{ value | as_date }}"},
        {"to": "label", "template": "{{ record.Name | upper }}-{{ input.Id }}"},
        {"to": "skipped", "from": "$.Missing", "template": "{{ value | upper }}"},
        record={"CloseDate": "2026-04-05T10:00:00Z", "Name": "acme", "Id": "7"},
    )
    assert outcome.record == {"start": "2026-04-05", "label": "ACME-7"}


def test_template_error_names_the_field():
    outcome = mapped(
        {"to": "start", "from": "$.CloseDate", "template": "{{ value | as_date }}"}, record={"CloseDate": "soon"}
    )
    assert outcome.status == "failed"
    assert outcome.error.field == "start"
    assert outcome.error.message == "start: 'soon' is not a date (expected YYYY-MM-DD)"


def test_value_map_with_and_without_default():
    ok = mapped({"to": "region", "from": "$.R", "value_map": "regions"}, record={"R": "Europe"})
    assert ok.record == {"region": "EMEA"}
    fallback = mapped({"to": "region", "from": "$.R", "value_map": "regions", "default": "NA"}, record={"R": "Mars"})
    assert fallback.record == {"region": "NA"}
    failed = mapped({"to": "region", "from": "$.R", "value_map": "regions"}, record={"R": "Mars"})
    assert failed.error.message == "region: 'Mars' is not in value map 'regions'"


def test_crosswalk_resolves_canonical_ids():
    effects = FakeEffects(links={("client", "salesforce", "001"): "C-1"})
    field = {"to": "client_id", "from": "$.AccountId", "crosswalk": {"object": "client", "system": "salesforce"}}
    assert mapped(field, record={"AccountId": "001"}, effects=effects).record == {"client_id": "C-1"}
    missing = mapped(field, record={"AccountId": "002"}, effects=effects)
    assert missing.error.kind == "mapping"
    assert missing.error.message == "client_id: no client is linked to salesforce id '002' in the crosswalk"


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("string", 12, "12"),
        ("string", True, "true"),
        ("integer", "42", 42),
        ("integer", 7.0, 7),
        ("number", "1,234.5", 1234.5),
        ("boolean", "Yes", True),
        ("boolean", 0, False),
        ("date", "2026-01-02T03:04:05Z", "2026-01-02"),
        ("datetime", "2026-01-02T03:04:05+00:00", "2026-01-02T03:04:05+00:00"),
        ("money", "19.999", 20.0),
    ],
)
def test_type_coercion(kind, value, expected):
    assert mapped({"to": "x", "from": "$.v", "type": kind}, record={"v": value}).record == {"x": expected}


@pytest.mark.parametrize(
    ("kind", "value"), [("integer", "4.5"), ("boolean", "maybe"), ("string", {"a": 1}), ("date", 3j)]
)
def test_type_coercion_failure_names_the_field(kind, value):
    outcome = mapped({"to": "x", "from": "$.v", "type": kind}, record={"v": value})
    assert outcome.status == "failed"
    assert outcome.error.field == "x" and outcome.error.kind == "mapping"


def test_multi_value_paths_give_lists():
    outcome = mapped(
        {"to": "skus", "from": "$.Lines[*].sku"},
        {"to": "count", "from": "$.Lines[*].sku", "template": "{{ value | length }}"},
        record={"Lines": [{"sku": "a"}, {"sku": "b"}]},
    )
    assert outcome.record == {"skus": ["a", "b"], "count": 2}


def test_merge_keeps_the_record_and_never_mutates_the_input():
    record = {"a": 1, "meta": {"x": 1}}
    outcome = mapped({"to": "b", "constant": 2}, {"to": "meta.y", "constant": 3}, record=record, merge=True)
    assert outcome.record == {"a": 1, "b": 2, "meta": {"x": 1, "y": 3}}
    assert record == {"a": 1, "meta": {"x": 1}}


def test_map_with_a_target_reports_it():
    outcome = mapped({"to": "name", "from": "$.n"}, record={"n": "x"}, target="project@1")
    assert outcome.steps[0].detail == {"target": "project@1"}


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["Id", "Name", "Account"]),
        st.one_of(
            st.none(),
            st.text(max_size=3),
            st.integers(),
            st.dictionaries(st.sampled_from(["Name", "Id"]), st.one_of(st.none(), st.text(max_size=3))),
        ),
    )
)
def test_optimistic_and_careful_code_agree(record):
    """The dict-literal fast path and the per-field path must give identical records."""
    plan = compile_flow(
        flow(
            map_step(
                {"to": "id", "from": "$.Id"},
                {"to": "name", "from": "$.Name"},
                {"to": "account", "from": "$.Account.Name"},
                {"to": "account_id", "from": "$.Account.Id"},
            )
        )
    )
    spec = plan.steps[0].spec
    fast = spec.function(record, None, None)
    careful = spec.function.__globals__["_careful"](record, None, None)
    assert fast == careful


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
    | st.sampled_from(["12", "1,5", "yes", "2026-01-02", "3.50"])
    | st.lists(st.integers(), max_size=2),
    present=st.booleans(),
    kind=st.sampled_from(["string", "integer", "number", "boolean", "date", "money"]),
    extra=st.sampled_from([{}, {"default": "1"}, {"required": True}]),
)
def test_inlined_typed_fields_match_the_general_path(value, present, kind, extra):
    """A typed plain field is generated inline; `{{ value }}` forces the same field through the closure."""
    record = {"v": value} if present else {}
    inline = mapped({"to": "x", "from": "$.v", "type": kind, **extra}, record=record)
    general = mapped({"to": "x", "from": "$.v", "type": kind, "template": "{{ value }}", **extra}, record=record)
    assert (inline.status, inline.record if inline.status == "completed" else inline.error) == (
        general.status,
        general.record if general.status == "completed" else general.error,
    )
