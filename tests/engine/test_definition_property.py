"""Property: whatever JSON an editor saves, validation answers with errors, never a crash."""

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.engine import DefinitionInvalid, compile_flow, validate_definition

from .test_definition import GOOD

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["$.x", "$..y[*]", "{{ value }}", "{{", "record.a > 1", "map", "route", "stop", "erp_na", "p@1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


PATHS = [p for p in _paths(GOOD) if p]


def _replace(definition, path, value):
    target = definition
    for part in path[:-1]:
        target = target[part]
    if isinstance(target, dict) != isinstance(path[-1], str):
        raise TypeError("an earlier change turned this part into another type")  # JSON has only string keys
    target[path[-1]] = value


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), json_values), min_size=1, max_size=3))
def test_mutated_definitions_get_errors_not_crashes(changes):
    definition = copy.deepcopy(GOOD)
    for path, value in changes:
        try:
            _replace(definition, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this part
    errors = validate_definition(definition)
    for error in errors:
        assert error.field and error.message
    try:
        compile_flow(definition)
    except DefinitionInvalid as invalid:
        assert invalid.errors == errors
    else:
        assert errors == []
