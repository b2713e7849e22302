"""Every template render is bounded: integers by size, strings and output by length, loops by
iterations, evaluation by time per step, each with an error that names the limit and its setting.

The runaway templates are the ones an analyst could save before the limits existed: each
took seconds to minutes holding the interpreter lock, or allocated up to a gigabyte."""

import time
import tracemalloc

import pytest

from integrations.engine import compile_flow, limits, run
from integrations.engine.conditions import compile_condition
from integrations.engine.errors import TemplateFailure
from integrations.engine.limits import TemplateLimitExceeded, TemplateLimits
from integrations.engine.templating import compile_template

OUTPUT = "SWITCHBOARD_TEMPLATE_MAX_OUTPUT"
SECONDS = "SWITCHBOARD_TEMPLATE_MAX_SECONDS"
ITERATIONS = "SWITCHBOARD_TEMPLATE_MAX_ITERATIONS"
DIGITS = "SWITCHBOARD_TEMPLATE_MAX_INT_DIGITS"

DOUBLING = (
    "{% set ns = namespace(s='x') %}{% for i in range(27) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}"
)

# (template, the setting its error names): the reproductions first
RUNAWAY = [
    ("{{ ((10**1000)**1000)**30 > 1 }}", DIGITS),
    ("{{ '1'.zfill(10**9)|length }}", OUTPUT),
    ("{{ '1'.zfill(2*10**7) }}", OUTPUT),
    ("{{ '{0:>100000000}'.format(1) }}", OUTPUT),
    (DOUBLING, OUTPUT),
    ("{% for a in range(3000) %}{{ range(100000)|sum }}{% endfor %}", ITERATIONS),
    # integers, chained or not
    ("{{ 10 ** 5000 }}", DIGITS),
    ("{{ (10 ** 4000) * (10 ** 4000) }}", DIGITS),
    ("{{ 7 ** 3000 ** 2 }}", DIGITS),
    ("{{ (2 ** 14284) + (2 ** 14284) }}", DIGITS),
    ("{{ (2).__pow__(100000) }}", None),  # refused by the sandbox itself
    ("{{ (1).to_bytes(10**9, 'big')|length }}", OUTPUT),
    # string-producing methods
    ("{{ 'x'.ljust(10**8) }}", OUTPUT),
    ("{{ 'x'.rjust(10**8) }}", OUTPUT),
    ("{{ 'x'.center(10**8) }}", OUTPUT),
    ("{{ ('\\t' * 1000).expandtabs(100000) }}", OUTPUT),
    ("{{ ('x' * 1000).replace('', 'y' * 10000) }}", OUTPUT),
    ("{{ ('x' * 1000).translate({120: 'y' * 10000}) }}", OUTPUT),
    ("{{ ','.join(['x' * 100000] * 100) }}", OUTPUT),
    ("{{ '{:.100000000f}'.format(1.5) }}", OUTPUT),
    ("{{ '{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}'.format('x' * 100000) }}", OUTPUT),
    ("{{ '{x:>{w}}'.format_map({'x': 1, 'w': 10**8}) }}", OUTPUT),
    # operators
    ("{{ 'x' * 10**8 }}", OUTPUT),
    ("{{ ['x' * 100000] * 1000 }}", OUTPUT),
    ("{{ [['x' * 1000] * 1000] * 1000 }}", OUTPUT),
    ("{{ ('x' * 1000000) ~ ('x' * 1000000) }}", OUTPUT),
    ("{{ ('x' * 1000000) + ('x' * 1000000) }}", OUTPUT),
    ("{{ '%0100000000d' % 1 }}", OUTPUT),
    ("{{ '%*d' % (100000000, 1) }}", OUTPUT),
    ("{{ '%s%s' % ('x' * 600000, 'x' * 600000) }}", OUTPUT),
    # a short list that repeats a long string is long once written
    ("{% set s = 'x' * 100000 %}{{ [s, s, s, s, s, s, s, s, s, s, s] }}", OUTPUT),
    ("{% set s = 'x' * 100000 %}{% set l = [s, s, s, s] %}{{ [l, l, l, l] | string }}", OUTPUT),
    ("{% set s = 'x' * 100000 %}{% set l = [s, s, s, s] %}{{ [l, l, l, l] | tojson }}", OUTPUT),
    # filters
    ("{{ 'x'|center(10**8) }}", OUTPUT),
    ("{{ ('x\\n' * 1000)|indent(100000) }}", OUTPUT),
    ("{{ ('x ' * 100000)|wordwrap(1, wrapstring='y' * 1000) }}", OUTPUT),
    ("{{ ('x' * 1000)|replace('', 'y' * 10000) }}", OUTPUT),
    ("{{ '%0100000000d'|format(1) }}", OUTPUT),
    ("{{ (['x' * 100000] * 11)|join }}", OUTPUT),
    ("{{ [1]|batch(10**8, 0)|list }}", OUTPUT),
    ("{{ [1]|slice(10**8)|list }}", OUTPUT),
    ("{{ ([[1]] * 100000)|sum(start=[]) }}", OUTPUT),  # 100,000 copies of a growing list
    # loops and ranges
    ("{% for a in range(200000) %}{% endfor %}", ITERATIONS),
    ("{% for c in 'x' * 1000000 %}{% endfor %}", ITERATIONS),
    ("{% for a in range(60000) %}{% endfor %}{% for b in range(60000) %}{% endfor %}", ITERATIONS),
    ("{{ range(10**5000)|length }}", DIGITS),
    ("{{ range(10**30)|length }}", ITERATIONS),
    # many values, each within the limit: all a render builds is counted (a list of 1 MiB strings)
    (
        "{% set ns = namespace(v=[]) %}{% for i in range(100000) %}"
        "{% set ns.v = ns.v + [('x' * 1000000)[:-1] ~ i] %}{% endfor %}",
        OUTPUT,
    ),
    # the whole output
    ("{% for a in range(20) %}{{ 'x' * 100000 }}{% endfor %}", OUTPUT),
    ("{% set s = 'x' * 1000000 %}{{ s }}{{ s }}", OUTPUT),
]


@pytest.mark.parametrize(("source", "setting"), RUNAWAY)
def test_runaway_templates_end_at_once_naming_the_limit(source, setting):
    template = compile_template(source)
    tracemalloc.start()
    # CPU time, not wall time: on a loaded machine the process may wait for a core, which
    # says nothing about how much work the template was allowed to do.
    started = time.process_time()
    try:
        with pytest.raises(TemplateFailure) as failure:
            template({})
        elapsed, peak = time.process_time() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 1.5
    assert peak < 40 * 2**20  # bytes: a few values of the output limit, never gigabytes
    if setting is not None:
        assert isinstance(failure.value, TemplateLimitExceeded)
        assert setting in str(failure.value)


def test_the_error_reads_as_what_exceeded_which_limit():
    with pytest.raises(TemplateLimitExceeded) as failure:
        compile_template("{% for a in range(20) %}{{ 'x' * 100000 }}{% endfor %}")({})
    assert str(failure.value) == "template output exceeds 1,048,576 characters (SWITCHBOARD_TEMPLATE_MAX_OUTPUT)"
    with pytest.raises(TemplateLimitExceeded, match=r"^the number of loop iterations exceeds 100,000 per template"):
        compile_template("{% for a in range(3000) %}{{ range(100000)|sum }}{% endfor %}")({})
    with pytest.raises(TemplateLimitExceeded, match=r"^the result of \*\* exceeds 4,300 digits"):
        compile_template("{{ ((10**1000)**1000)**30 > 1 }}")({})


@pytest.mark.parametrize(
    "source",
    [
        "{{ dict.x.mro() }}",  # dict['x'] is a GenericAlias that proxies mro
        "{{ dict['x'].mro() }}",
        "{{ dict.fromkeys(range(10)) }}",
        "{{ namespace.mro() }}",
        "{{ lipsum(n=100000) }}",  # paragraphs of any size: not offered
    ],
)
def test_classes_are_opaque_and_lipsum_is_gone(source):
    with pytest.raises(TemplateFailure, match=r"unsafe|undefined"):
        compile_template(source)({})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ 2 ** 10 }}", 1024),
        ("{{ 10 ** 4000 > 1 }}", True),
        ("{{ '1'.zfill(5) }}", "00001"),
        ("{{ '{0:>5}'.format(1) }}", "    1"),
        ("{{ '%05d' % 42 }}", "00042"),
        ("{{ 'ab' * 3 }}", "ababab"),
        ("{{ [1, 2] * 2 }}", [1, 2, 1, 2]),
        ("{{ ', '.join(['a', 'b']) }}", "a, b"),
        ("{{ 'a-b'.replace('-', '+') }}", "a+b"),
        ("{{ range(5)|sum }}", 10),
        ("{{ [[1], [2]]|sum(start=[]) }}", [1, 2]),
        ("{{ ([[1, 2, 3]] * 1000)|sum(start=[])|length }}", 3000),
        ("{{ 'x'|center(5) }}", "  x  "),
        ("{{ 'a' ~ 1 ~ none }}", "a1None"),
        ("{{ '%s-%s'|format('a', 'b') }}", "a-b"),
        ("{{ ['a', none, 'b']|join('/') }}", "a/b"),
        (
            "{% set ns = namespace(s='x') %}{% for i in range(3) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
            "x" * 8,
        ),
        ("{% for x in range(3) %}{{ loop.index }}/{{ loop.length }} {% endfor %}", "1/3 2/3 3/3 "),
        ("{{ 'x' * 1048576 }}", "x" * 1048576),  # exactly the limit is fine
        (  # a list built item by item, as an immutable sandbox allows
            "{% set ns = namespace(v=[]) %}{% for i in range(5000) %}{% set ns.v = ns.v + [i] %}{% endfor %}"
            "{{ ns.v|length }}",
            "5000",
        ),
    ],
)
def test_ordinary_templates_are_unchanged(source, expected):
    assert compile_template(source)({}) == expected


def test_data_larger_than_the_output_limit_is_refused_when_written_not_when_read():
    big = {"record": {"text": "x" * 2_000_000, "rows": list(range(200_000))}}
    assert compile_template("{{ record.text|length }}")(big) == 2_000_000
    assert compile_template("{{ (record.rows|length) + 1 }}")(big) == 200_001
    with pytest.raises(TemplateLimitExceeded, match=OUTPUT):
        compile_template("Text: {{ record.text }}")(big)
    with pytest.raises(TemplateLimitExceeded, match=ITERATIONS):
        compile_template("{% for i in record.rows %}{% endfor %}")(big)


@pytest.fixture
def tight():
    """Small limits, so time-bound tests end quickly; restored afterwards."""
    previous = limits.configure(TemplateLimits(max_output=10_000, max_seconds=0.3, max_iterations=5_000))
    yield limits.current
    limits.configure(previous)


def test_configured_limits_apply_and_are_named(tight):
    with pytest.raises(TemplateLimitExceeded, match=r"exceeds 10,000 characters \(SWITCHBOARD_TEMPLATE_MAX_OUTPUT\)"):
        compile_template("{{ 'x' * 10001 }}")({})
    with pytest.raises(TemplateLimitExceeded, match=ITERATIONS):
        compile_template("{% for a in range(5001) %}{% endfor %}")({})
    assert compile_template("{{ 'x' * 10000 }}")({}) == "x" * 10000


def test_configure_from_reads_the_settings_that_are_set():
    class Settings:
        SWITCHBOARD_TEMPLATE_MAX_OUTPUT = 5_000
        SWITCHBOARD_TEMPLATE_MAX_SECONDS = None  # unset: the default stays

    previous = limits.current
    try:
        applied = limits.configure_from(Settings())
        assert applied == TemplateLimits(max_output=5_000) and limits.current is applied
    finally:
        limits.configure(previous)
    with pytest.raises(ValueError, match="SWITCHBOARD_TEMPLATE_MAX_SECONDS must be a positive number"):
        limits.configure(TemplateLimits(max_seconds=0))


# A template that is slow without building anything large: thousands of passes over 1 MB of text.
SLOW = (  # three counts a pass, about 6 s of work: well past the 2 s limit on a fast machine too
    "{% for i in range(5000) %}{{ record.text.count('a') + record.text.count('b') + record.text.count('ab') > 0 }}"
    "{% endfor %}"
)
TEXT = {"record": {"text": "ab" * 500_000, "words": ["zz"] * 5_000}}


def test_a_slow_template_ends_at_the_time_limit(tight):
    started = time.perf_counter()
    with pytest.raises(TemplateLimitExceeded, match=r"template evaluation time exceeds 0.3 s per step"):
        compile_template(SLOW)(TEXT)
    assert time.perf_counter() - started < tight.max_seconds + 0.5


def test_a_slow_condition_ends_at_the_time_limit(tight):
    started = time.perf_counter()
    with pytest.raises(TemplateLimitExceeded, match=SECONDS):
        compile_condition("record.words|select('in', record.text)|list|length > 0")(TEXT)
    assert time.perf_counter() - started < tight.max_seconds + 0.5


def _map_flow(*templates):
    fields = [{"to": f"f{i}", "template": source} for i, source in enumerate(templates)]
    if templates == (SLOW,):
        fields[0]["template"] = SLOW.replace("record.text", "input.text")
    return compile_flow({"trigger": {"type": "manual"}, "steps": [{"id": "shape", "type": "map", "fields": fields}]})


class _Clock:
    """A clock that moves 10 ms each time it is read: template time becomes a count of checks."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 0.01
        return self.now


def test_the_templates_of_one_step_share_its_time_budget(monkeypatch):
    previous = limits.configure(TemplateLimits(max_seconds=1.0))
    monkeypatch.setattr(limits, "perf_counter", _Clock())
    try:
        busy = "{% for i in range(20) %}{{ i }}{% endfor %}"  # ~60 clock reads: 0.6 s on this clock
        alone = run(_map_flow(busy), {}, effects=None)
        together = run(_map_flow(busy, busy), {}, effects=None)
        next_record = run(_map_flow(busy), {}, effects=None)  # a new step starts with the full budget
    finally:
        limits.configure(previous)
    assert alone.status == "completed" and next_record.status == "completed"
    assert together.status == "failed"
    assert together.error.step_id == "shape" and together.error.field == "f1"
    assert (
        together.error.message == "f1: template evaluation time exceeds 1 s per step (SWITCHBOARD_TEMPLATE_MAX_SECONDS)"
    )


def test_a_failing_template_is_evaluated_once(tight):
    """The runner used to run a failing map step again to report its error: a template that
    ran out of time would have run out of time twice more."""
    plan = _map_flow(SLOW)
    started = time.perf_counter()
    outcome = run(plan, TEXT["record"], effects=None)
    assert outcome.status == "failed" and SECONDS in outcome.error.message
    assert time.perf_counter() - started < tight.max_seconds + 0.5
