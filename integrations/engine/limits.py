"""What one template or condition may cost: output, integers, loop iterations and time.

An analyst's template runs inside the web process (invoke, test-run) and the workers, so a
template that computes `((10**1000)**1000)**30` or pads a string to a gigabyte must end with
a clear error instead of holding the interpreter for minutes. The sandbox
(integrations/engine/sandbox.py) checks these limits before each operation that could exceed
them, so no single step of a template runs long enough to starve the other threads.

The limits are process-wide: `configure()` sets them once at start-up (the runtime applies the
`SWITCHBOARD_TEMPLATE_*` Django settings through `configure_from`; the engine reads no settings
itself). The budget of the evaluation in progress is per thread: time is counted per step
(the runner opens a step with `start_step()`), iterations per render."""

from __future__ import annotations

import math
import threading
from collections.abc import Collection
from dataclasses import dataclass, fields, replace
from time import perf_counter
from typing import Any

from jinja2.utils import Namespace

from .errors import TemplateFailure

LOG2_10 = math.log2(10)
_SIZED = (str, bytes, list, tuple, dict, set, frozenset)  # what `oversized` measures by len()
# what str() writes element by element (dict views print their elements too)
_COLLECTIONS: tuple[type[Collection[Any]], ...] = (
    list,
    tuple,
    set,
    frozenset,
    type({}.keys()),
    type({}.values()),
    type({}.items()),
)


@dataclass(frozen=True)
class TemplateLimits:
    max_output: int = 1024 * 1024  # characters: one render's output, and any string or value a template builds
    max_seconds: float = 2.0  # template evaluation per step (all its templates and conditions together)
    max_iterations: int = 100_000  # loop iterations and range() items, per render
    max_int_digits: int = 4_300  # digits of an integer a template computes (Python's own int-to-str limit)

    @property
    def max_int_bits(self) -> int:
        return math.ceil(self.max_int_digits * LOG2_10)


# The Django setting that changes each limit; error messages name it so an operator knows what to raise.
SETTINGS = {
    "max_output": "SWITCHBOARD_TEMPLATE_MAX_OUTPUT",
    "max_seconds": "SWITCHBOARD_TEMPLATE_MAX_SECONDS",
    "max_iterations": "SWITCHBOARD_TEMPLATE_MAX_ITERATIONS",
    "max_int_digits": "SWITCHBOARD_TEMPLATE_MAX_INT_DIGITS",
}

DEFAULT = TemplateLimits()
# Each value stays under the output limit, but a loop could keep building new ones (a list of a
# thousand different 1 MiB strings): all the strings and collections one render builds, counted
# by length, may add up to this many times the output limit, which bounds its memory. The same
# factor bounds what a sum() of lists copies ("copied").
BUILD_FACTOR = 16
current = DEFAULT  # read through the module (limits.current) so configure() reaches every caller


def configure(wanted: TemplateLimits) -> TemplateLimits:
    """Set the process-wide limits; returns the previous ones (tests restore them)."""
    global current
    for item in fields(wanted):
        if not getattr(wanted, item.name) > 0:
            raise ValueError(f"{SETTINGS[item.name]} must be a positive number")
    previous, current = current, wanted
    return previous


def configure_from(settings: Any) -> TemplateLimits:
    """Apply the `SWITCHBOARD_TEMPLATE_*` attributes that `settings` (e.g. django.conf.settings) sets
    to a value; the others keep their default. Returns the limits now in force."""
    given = {name: getattr(settings, key, None) for name, key in SETTINGS.items()}
    configure(replace(DEFAULT, **{name: value for name, value in given.items() if value is not None}))
    return current


class TemplateLimitExceeded(TemplateFailure):
    """A template went over one of the limits; the message names the limit and its setting."""

    def __init__(self, what: str, limit: str):
        self.setting = SETTINGS.get(limit, SETTINGS["max_output"])
        if limit == "built":
            what = "everything the template builds"
        super().__init__(f"{what} exceeds {_describe(limit)} ({self.setting})")


def _describe(limit: str) -> str:
    value = getattr(current, limit, None)
    if limit == "max_output":
        return f"{value:,} characters"
    if limit == "max_seconds":
        return f"{value:g} s per step"
    if limit == "max_iterations":
        return f"{value:,} per template"
    if limit in ("built", "copied"):
        return f"{BUILD_FACTOR * current.max_output:,} characters in all, {BUILD_FACTOR} times the output limit"
    return f"{value:,} digits"


class _Budget(threading.local):
    """The evaluation in progress on this thread."""

    def __init__(self) -> None:
        self.deadline = math.inf  # no render in progress: nothing to time (e.g. constant folding at compile)
        self.iterations = 0
        self.built = 0  # characters and elements of the values built so far by the render
        self.step_left: float | None = None  # seconds the current step has left; None outside a step
        self.render_started = 0.0


_budget = _Budget()


def start_step() -> None:
    """The runner opens a step: its templates and conditions share `max_seconds`."""
    _budget.step_left = current.max_seconds


def end_step() -> None:
    _budget.step_left = None


def start_render() -> None:
    budget = _budget
    budget.render_started = now = perf_counter()
    budget.deadline = now + (current.max_seconds if budget.step_left is None else budget.step_left)
    budget.iterations = 0
    budget.built = 0


def end_render() -> None:
    budget = _budget
    budget.deadline = math.inf
    if budget.step_left is not None:
        budget.step_left -= perf_counter() - budget.render_started


def check_time() -> None:
    if perf_counter() > _budget.deadline:
        raise TemplateLimitExceeded("template evaluation time", "max_seconds")


def charge_iterations(count: int) -> None:
    budget = _budget
    budget.iterations += count
    if budget.iterations > current.max_iterations:
        raise TemplateLimitExceeded("the number of loop iterations", "max_iterations")


def charge_built(size: int) -> None:
    """Count a value a render built (outside a render, e.g. constant folding at compile time, nothing is counted)."""
    budget = _budget
    if budget.deadline != math.inf:
        budget.built += size
        if budget.built > BUILD_FACTOR * current.max_output:
            raise TemplateLimitExceeded("", "built")


def check_length(length: Any, what: str) -> None:
    """Refuse before building a string (or sequence) of `length` characters (items)."""
    if isinstance(length, int | float) and length > current.max_output:
        raise TemplateLimitExceeded(what, "max_output")


def check_int_bits(bits: int, what: str) -> None:
    if bits > current.max_int_bits:
        raise TemplateLimitExceeded(what, "max_int_digits")


def oversized(value: Any) -> str | None:
    """After an operation: the limit an oversized string, integer or collection it produced
    exceeds, None when it fits. O(1): lengths and bit counts only."""
    cls = value.__class__
    if cls is int or (cls is not bool and isinstance(value, int)):
        return "max_int_digits" if value.bit_length() > current.max_int_bits else None
    if cls in _SIZED or isinstance(value, _SIZED):
        size = len(value)
        if size > current.max_output:
            return "max_output"
        budget = _budget
        if budget.deadline != math.inf:
            budget.built += size
            if budget.built > BUILD_FACTOR * current.max_output:
                return "built"
    return None


def check_value(value: Any, what: str) -> None:
    limit = oversized(value)
    if limit is not None:
        raise TemplateLimitExceeded(what, limit)


def check_size(value: Any, what: str, limit: int | None = None) -> int:
    """Refuse a value whose text (what str() would write) is longer than `limit` (the output limit).
    Containers count every element they reach: a list holding one long string a thousand times
    is a thousand times as long once written. Returns the size found."""
    limit = current.max_output if limit is None else limit
    size = size_of(value, limit)
    if size > limit:
        raise TemplateLimitExceeded(what, "max_output")
    return size


def size_of(value: Any, limit: int) -> int:
    """About how many characters str(value) has; counting stops once it passes `limit`, so the
    cost is bounded by the limit, not by the value."""
    cls = value.__class__
    if cls is str or cls is bytes:
        return len(value)
    if cls is int:
        bits: int = value.bit_length()
        return bits * 30103 // 100_000 + 1  # digits: bits * log10(2)
    if value is None or cls is bool or cls is float:
        return 5
    total = 0
    pending: list[Any] = [value]
    visited = 0
    while pending:
        item = pending.pop()
        visited += 1
        if not visited & 0xFFF:
            check_time()
        if isinstance(item, str | bytes):
            total += len(item) + 2
        elif item is None or isinstance(item, bool | float):
            total += 5
        elif isinstance(item, int):
            total += item.bit_length() * 30103 // 100_000 + 2  # digits: bits * log10(2)
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            if total <= limit:
                pending.extend(item.keys())
                pending.extend(item.values())
        elif isinstance(item, _COLLECTIONS):
            total += 2 + 2 * len(item)
            if total <= limit:
                pending.extend(item)
        elif isinstance(item, Namespace):
            # Jinja's namespace() prints its attributes; it keeps them in a name-mangled dict
            pending.append(item._Namespace__attrs)
        else:
            total += 16  # dates, numbers, Undefined, loop helpers: short text
        if total > limit:
            return total
    return total
