"""Conditions: parsed once, evaluated natively for simple comparisons, never with Python eval."""

import pytest
from jinja2.exceptions import TemplateSyntaxError

from integrations.engine.conditions import compile_condition
from integrations.engine.errors import TemplateFailure

RECORD = {"region": "EMEA", "amount": 300000, "status": "won", "flag": True, "owner": None, "tags": ["a"]}
CTX = {"record": RECORD, "input": {"Type": "New"}, "steps": {}}

CASES = [
    ("record.region == 'EMEA'", True),
    ('record.region != "EMEA"', False),
    ("record.amount > 250000", True),
    ("record.amount >= 300000", True),
    ("record.amount < 100", False),
    ("record.amount <= -1", False),
    ("record.status in ['won', 'closed']", True),
    ("record.status not in ['won']", False),
    ("record.flag == true", True),
    ("record.owner == none", True),
    ("record.region == 'EMEA' and record.amount > 100", True),
    ("record.region == 'APAC' or record.amount > 100", True),
    ("record.region == 'APAC' or record.amount < 100", False),
    ("input.Type == 'New'", True),
]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_fast_path_agrees_with_the_sandbox(source, expected):
    fast = compile_condition(source)
    sandboxed = compile_condition(f"({source})")
    assert fast.fast and not sandboxed.fast
    assert fast(CTX) is expected
    assert sandboxed(CTX) is expected


def test_richer_expressions_use_the_sandbox():
    condition = compile_condition("record.tags | length > 0 and record.region.startswith('EM')")
    assert not condition.fast
    assert condition(CTX) is True


def test_quoted_joiner_is_not_split():
    assert compile_condition("record.region == 'EMEA and APAC'")(CTX) is False


def test_missing_field_is_an_error_in_both_paths():
    for source in ("record.nope == 'x'", "(record.nope == 'x')"):
        with pytest.raises(TemplateFailure, match="no attribute 'nope'"):
            compile_condition(source)(CTX)


def test_type_mismatch_is_an_error():
    with pytest.raises(TemplateFailure, match="not supported"):
        compile_condition("record.region > 5")(CTX)


def test_is_defined_guards_optional_fields():
    assert compile_condition("record.nope is defined and record.nope > 1")(CTX) is False


@pytest.mark.parametrize("source", ["record.x ==", "import os", "__import__('os').system('true')"])
def test_bad_syntax_and_python_are_refused(source):
    with pytest.raises((TemplateSyntaxError, TemplateFailure)):
        compile_condition(source)(CTX)
