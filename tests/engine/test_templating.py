"""Templates: native fast path and Jinja2 sandbox give the same results and the same errors."""

import pytest
from jinja2.exceptions import TemplateSyntaxError

from integrations.engine.errors import TemplateFailure
from integrations.engine.templating import compile_template

CTX = {
    "record": {"name": " Acme ", "amount": "1234.567", "region": "EMEA", "nested": {"deep": "x"}, "items": [1]},
    "input": {"Id": "006"},
    "steps": {"lookup": {"owner": "pat"}},
    "value_maps": {"r": {"EMEA": "Europe"}},
    "value": "2026-01-02",
}

FAST = [
    "{{ value | as_date }}",
    "{{ record.name | trim | upper }}",
    "{{ record.amount | round_money(2) }}",
    "{{ record.region | value_map('r') }}",
    "{{ record.nested.deep }}",
    "{{ steps.lookup.owner | upper }}",
    "{{ input.Id }}",
    "{{ record.missing | default('d') }}",
]


@pytest.mark.parametrize("source", FAST)
def test_fast_path_matches_the_sandbox(source):
    template = compile_template(source)
    sandboxed = compile_template("{{ (" + source[2:-2].strip() + ") }}")  # parentheses: not a fast-path shape
    assert template.fast and not sandboxed.fast
    assert template(CTX) == sandboxed(CTX)


def test_shapes_that_stay_on_the_sandbox():
    assert not compile_template("Hello {{ record.name }}").fast
    assert not compile_template("{{ record.items }}").fast  # 'items' is a dict method name in Jinja
    assert not compile_template("{{ record.amount | float * 2 }}").fast


def test_single_expression_keeps_its_type():
    assert compile_template("{{ record.amount | as_number }}")(CTX) == 1234.567
    assert compile_template("{{ [1, 2] }}")(CTX) == [1, 2]
    assert compile_template("Total: {{ record.amount | round_money }}")(CTX) == "Total: 1234.57"


def test_undefined_is_an_error_not_an_empty_string():
    with pytest.raises(TemplateFailure, match="no attribute 'missing'"):
        compile_template("{{ record.missing }}")(CTX)
    with pytest.raises(TemplateFailure, match="no attribute 'missing'"):
        compile_template("x {{ record.missing }}")(CTX)
    with pytest.raises(TemplateFailure, match="'nope' is undefined"):
        compile_template("{{ nope }}")(CTX)


@pytest.mark.parametrize(
    "source",
    [
        "{{ record.__class__.__mro__ }}",
        "{{ ''.__class__.__subclasses__() }}",
        "{{ record.update({'x': 1}) }}",  # immutable sandbox: no mutation of the record
        "{{ 'a' * 10000000 }}",
        "{{ 2 ** 100000 }}",
    ],
)
def test_sandbox_refuses_unsafe_templates(source):
    with pytest.raises(TemplateFailure):
        compile_template(source)(CTX)


def test_record_is_not_mutated_by_templates():
    ctx = {**CTX, "record": {"a": [1]}}
    with pytest.raises(TemplateFailure):
        compile_template("{{ record.a.append(2) }}")(ctx)
    assert ctx["record"] == {"a": [1]}


@pytest.mark.parametrize(
    "source",
    [
        "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
        "{% for a in record.items recursive %}{{ loop(a) }}{% endfor %}",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    ],
)
def test_unbounded_templates_are_refused_at_compile_time(source):
    with pytest.raises(TemplateSyntaxError, match="flow templates"):
        compile_template(source)


def test_a_single_loop_is_fine():
    assert compile_template("{% for x in record.lines %}{{ x }};{% endfor %}")({"record": {"lines": [1, 2]}}) == "1;2;"
