"""JSONPath sources: plain paths compile to Python, the rest go through jsonpath-ng once."""

import pytest

from integrations.engine.paths import MISSING, PathError, compile_path, simple_tokens

RECORD = {"a": {"b": [{"c": 1}, {"c": 2}]}, "odd key": 5, "s": "text", "n": None}


@pytest.mark.parametrize(
    ("path", "tokens"),
    [("$", []), ("$.a.b[0].c", ["a", "b", 0, "c"]), ("$['odd key']", ["odd key"]), ("$.a.b[-1]", ["a", "b", -1])],
)
def test_plain_paths_are_recognised(path, tokens):
    assert simple_tokens(path) == tokens


@pytest.mark.parametrize("path", ["$.a.b[*].c", "$..c", "$.a.b[?(@.c > 1)]", "$.a.b[0:1]", "$.a['b','x']"])
def test_expressions_that_need_jsonpath_ng(path):
    assert simple_tokens(path) is None


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("$.a.b[1].c", 2),
        ("$['odd key']", 5),
        ("$.a.b[-1].c", 2),
        ("$.a.x", MISSING),
        ("$.a.b[5].c", MISSING),
        ("$.s[0]", MISSING),  # a string is not a list
        ("$.s.x", MISSING),
        ("$.n", None),
        ("$.n.x", MISSING),
        ("$", RECORD),
    ],
)
def test_plain_path_values(path, value):
    assert compile_path(path)(RECORD) == value if value is not MISSING else compile_path(path)(RECORD) is MISSING


def test_multi_value_paths_yield_lists():
    assert compile_path("$.a.b[*].c")(RECORD) == [1, 2]
    assert compile_path("$..c")(RECORD) == [1, 2]
    assert compile_path("$.a.b[?(@.c > 1)].c")(RECORD) == [2]
    assert compile_path("$.a.b[*].zzz")(RECORD) is MISSING


@pytest.mark.parametrize("path", ["a.b", "", "$.a[", "$.a[?(@.x ==]"])
def test_invalid_paths_are_refused(path):
    with pytest.raises(PathError):
        compile_path(path)
