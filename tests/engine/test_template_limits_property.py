"""Property: random small templates, built from the operations that can grow (powers, products,
repetition, padding, formatting widths, joins, filters, ranges, loops, namespace doubling),
never go past the limits: each ends with a value within them or a TemplateFailure, within the
time limit, and without allocating much more than the output limit allows."""

import time
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2.exceptions import TemplateSyntaxError

from integrations.engine import limits
from integrations.engine.errors import TemplateFailure
from integrations.engine.limits import TemplateLimits
from integrations.engine.templating import compile_template

LIMITS = TemplateLimits(max_output=20_000, max_seconds=0.5, max_iterations=5_000, max_int_digits=500)
CTX = {"record": {"text": "ab" * 500, "n": 7, "words": ["x", "yy", "zzz"]}, "value": "v"}
MARGIN = 0.5  # seconds past the limit a render may take to notice it (a loaded 2-core machine)
MEMORY = 64 * LIMITS.max_output * 4  # bytes: generous for a few values of the output limit

sizes = st.sampled_from(["0", "1", "3", "100", "4000", "30000", "10**6", "10**9", "(10**100)", "record.n"])
texts = st.sampled_from(["'x'", "'ab'", "'%s'", "'%0*d'", "'{}'", "'{0:>{1}}'", "'\\t'", "record.text", "value"])


def _expr(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(inner, inner)
    return st.one_of(
        st.builds(
            lambda a, op, b: f"({a} {op} {b})", inner, st.sampled_from(["*", "**", "+", "~", "%", "-", "//"]), inner
        ),
        st.builds(
            lambda a, m, n: f"({a}).{m}({n})",
            inner,
            st.sampled_from(["zfill", "center", "ljust", "rjust", "expandtabs"]),
            sizes,
        ),
        st.builds(lambda a, p: f"({a}).replace({p[0]}, {p[1]})", inner, pair),
        st.builds(lambda a, p: f"({a}).format({p[0]}, {p[1]})", inner, pair),
        st.builds(lambda a, p: f"({a}).join([{p[0]}, {p[1]}, {p[0]}])", inner, pair),
        st.builds(
            lambda a, f, n: f"({a})|{f}({n})",
            inner,
            st.sampled_from(["center", "indent", "wordwrap", "truncate"]),
            sizes,
        ),
        st.builds(
            lambda a, f: f"({a})|{f}", inner, st.sampled_from(["string", "list", "join", "length", "tojson", "sum"])
        ),
        st.builds(lambda a, n: f"({a})|batch({n}, 0)|list", inner, sizes),
        st.builds(lambda p: f"[{p[0]}, {p[1]}, {p[0]}, {p[1]}]", pair),
        st.builds(lambda n: f"range({n})", sizes),
    )


expressions = st.recursive(st.one_of(sizes, texts), _expr, max_leaves=6)


@st.composite
def templates(draw: st.DrawFn) -> str:
    body = draw(expressions)
    shape = draw(st.sampled_from(["expression", "text", "loop", "doubling"]))
    if shape == "expression":
        return "{{ " + body + " }}"
    if shape == "text":
        return "out: {{ " + body + " }}!"
    count = draw(sizes)
    if shape == "loop":
        return "{% for i in range(" + count + ") %}{{ " + body + " }}{% endfor %}"
    return (
        "{% set ns = namespace(v=" + body + ") %}{% for i in range(" + count + ") %}"
        "{% set ns.v = ns.v ~ ns.v %}{% endfor %}{{ ns.v }}"
    )


@pytest.fixture(autouse=True)
def tight_limits():
    previous = limits.configure(LIMITS)
    yield
    limits.configure(previous)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(templates())
def test_random_templates_stay_within_the_limits(source):
    try:
        template = compile_template(source)
    except TemplateSyntaxError:
        return
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = template(CTX)
    except TemplateFailure:
        result = None
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert elapsed < LIMITS.max_seconds + MARGIN, f"{source} took {elapsed:.2f} s"
    assert peak < MEMORY, f"{source} allocated {peak:,} bytes"
    if isinstance(result, int):
        assert result.bit_length() <= LIMITS.max_int_bits
    assert limits.size_of(result, LIMITS.max_output) <= LIMITS.max_output, source
