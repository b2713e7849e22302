"""The one Jinja2 environment analyst templates and conditions run in.

Immutable sandbox (no attribute mutation, no unsafe calls), StrictUndefined (a typo is an
error, not an empty string), the registered filter set, and every operation that could
grow without bound checked against the limits of integrations/engine/limits.py BEFORE it
runs: integer arithmetic by the size of its result, string building (`~`, `*`, `%`,
`zfill`, `center`, `format` widths, `join`, `replace`, filters) by output length, `range()`
and loops by iterations, and the whole output. Each check also looks at the clock, so a
slow template ends with an error at the step's time limit; no single operation it may run
takes long enough to keep other threads of the process from running.

Types are opaque: no attribute or item of a class (`dict.x` would reach `dict[...]`, a
GenericAlias that proxies `mro`), and `lipsum` (text of any size) is not offered."""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterable, Iterator
from functools import update_wrapper
from itertools import islice
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEscapeFormatter, SandboxedFormatter
from markupsafe import Markup

from . import limits
from .filters import FILTERS
from .limits import (
    TemplateLimitExceeded,
    check_int_bits,
    check_length,
    check_size,
    check_time,
    check_value,
    oversized,
)

# printf-style conversions (`%-10.3f`, `%*d`): their widths and precisions pad the output
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")
_DIGITS = re.compile(r"\d+")
_PADDING_METHODS = frozenset({"zfill", "ljust", "rjust", "center"})
# filters whose result never holds more text than their input: no need to measure the input first
_NOT_WRITING = frozenset(
    {
        "abs", "as_date", "as_datetime", "as_number", "attr", "batch", "coalesce", "count", "d", "default",
        "dictsort", "first", "float", "format_date", "format_money", "groupby", "int", "items", "last",
        "length", "list", "map", "max", "min", "random", "reject", "rejectattr", "reverse", "round",
        "round_money", "select", "selectattr", "slice", "sort", "sum", "unique", "value_map",
    }
)  # fmt: skip


def _width(spec_number: str) -> int:
    # nine digits are already far past any limit; int() of more would only cost time
    return int(spec_number) if len(spec_number) < 10 else 10**9


def _percent_format_size(template: str | bytes, args: Any) -> int:
    """Upper bound of the length of `template % args`, computed without formatting."""
    text = template.decode("latin-1") if isinstance(template, bytes) else template
    values = args if isinstance(args, tuple) else (args,)
    stars = 0
    size = len(text)
    for match in _PERCENT_SPEC.finditer(text):
        for number in match.groups():
            if number == "*":
                stars += 1
            elif number:
                size += _width(number)
    star_widths = [v for v in values[:stars] if isinstance(v, int)]
    size += sum(abs(v) for v in star_widths)
    mapping = args.values() if isinstance(args, dict) else values
    limit = limits.current.max_output
    return size + sum(limits.size_of(v, limit) for v in mapping)


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str, default: Any = None) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _check_method_call(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse a call of a str/bytes/int method whose result would pass the limits."""
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", "")
    if isinstance(owner, str | bytes):
        if name in _PADDING_METHODS:
            check_length(_arg(args, kwargs, 0, "width"), f"the result of {name}()")
        elif name == "expandtabs":
            tabsize = _arg(args, kwargs, 0, "tabsize", 8)
            if isinstance(tabsize, int):
                tab = "\t" if isinstance(owner, str) else b"\t"
                check_length(len(owner) + owner.count(tab) * tabsize, "the result of expandtabs()")  # type: ignore[arg-type]
        elif name == "replace":
            _check_replace(owner, args, kwargs)
        elif name == "translate":
            table = _arg(args, kwargs, 0, "table")
            if isinstance(table, dict):
                longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
                check_length(len(owner) * longest, "the result of translate()")
    elif isinstance(owner, int) and name == "to_bytes":
        check_length(_arg(args, kwargs, 0, "length", 1), "the result of to_bytes()")


def _check_replace(text: str | bytes, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    old, new = _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new")
    if not (isinstance(old, str | bytes) and isinstance(new, str | bytes)):
        return
    count = _arg(args, kwargs, 2, "count", -1)
    found = text.count(old) if old else len(text) + 1  # type: ignore[arg-type]
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    check_length(len(text) + found * (len(new) - len(old)), "the result of replace()")


def _joined(separator: str | bytes, iterable: Any, what: str) -> list[Any]:
    """The items of a join, materialized, after checking what the join would write."""
    cap = limits.current.max_output
    items = list(islice(iterable, cap + 1)) if not isinstance(iterable, list | tuple) else iterable
    check_length(len(items), what)
    room = cap - len(separator) * max(len(items) - 1, 0)
    total = 0
    for item in items:
        total += limits.size_of(item, cap)
        if total > room:
            raise TemplateLimitExceeded(what, "max_output")
    return list(items)


class _LimitedFormatting:
    """`str.format` fields: widths and precisions checked before padding, output counted as it grows."""

    written = 0

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        self.written = len(format_string)
        check_length(self.written, "the result of format()")
        return super().vformat(format_string, args, kwargs)  # type: ignore[misc, no-any-return]

    def format_field(self, value: Any, format_spec: str) -> Any:
        check_time()
        size = check_size(value, "the result of format()") + sum(_width(n) for n in _DIGITS.findall(format_spec))
        self.written += size
        check_length(self.written, "the result of format()")
        return super().format_field(value, format_spec)  # type: ignore[misc]


class _Formatter(_LimitedFormatting, SandboxedFormatter):
    pass


class _EscapeFormatter(_LimitedFormatting, SandboxedEscapeFormatter):
    pass


class _LimitedCodeGenerator(CodeGenerator):
    """Generates the same code as Jinja's, with every `for` loop's iterable passed through
    `environment.limited_loop` and `~` through `environment.limited_concat`."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        for loop in node.find_all(nodes.For):
            wrapper = nodes.EnvironmentAttribute("limited_loop", lineno=loop.iter.lineno)
            loop.iter = nodes.Call(wrapper, [loop.iter], [], None, None, lineno=loop.iter.lineno)
        super().visit_Template(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.limited_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class FlowEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    code_generator_class = _LimitedCodeGenerator

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=self._finalize, **options)
        self.globals["range"] = self._range
        self.globals.pop("lipsum", None)

    # ---- what a template may reach -----------------------------------------------------

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, type | types.GenericAlias):
            return self.unsafe_undefined(obj, attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, type | types.GenericAlias):
            return self.unsafe_undefined(obj, str(argument))
        return super().getitem(obj, argument)

    # ---- operations, checked before they run -------------------------------------------

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        check_time()
        _check_binop(operator, left, right)
        result = super().call_binop(context, operator, left, right)
        check_value(result, f"the result of {operator}")
        return result

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        check_time()
        if getattr(__obj, "__name__", "") == "join" and isinstance(getattr(__obj, "__self__", None), str | bytes):
            iterable = _arg(args, kwargs, 0, "iterable", ())
            args, kwargs = (_joined(__obj.__self__, iterable, "the result of join()"),), {}
        else:
            _check_method_call(__obj, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        limit = oversized(result)
        if limit is not None:
            raise TemplateLimitExceeded(f"the result of {getattr(__obj, '__name__', 'a call')}()", limit)
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """Jinja's own wrapper of `str.format` / `format_map`, with formatters that check widths
        and count the output (Jinja builds its formatter inside the method, so it is repeated here)."""
        if not isinstance(value, types.MethodType | types.BuiltinMethodType) or value.__name__ not in (
            "format",
            "format_map",
        ):
            return None
        owner: Any = value.__self__
        if not isinstance(owner, str):
            return None
        str_type: type[str] = type(owner)
        is_format_map = value.__name__ == "format_map"
        formatter = _EscapeFormatter(self, escape=owner.escape) if isinstance(owner, Markup) else _Formatter(self)

        def wrapper(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs:
                    raise TypeError("format_map() takes no keyword arguments")
                if len(args) != 1:
                    raise TypeError(f"format_map() takes exactly one argument ({len(args)} given)")
                kwargs, args = args[0], ()
            return str_type(formatter.vformat(owner, args, kwargs))

        return update_wrapper(wrapper, value)

    def limited_loop(self, iterable: Any) -> Iterator[Any]:
        """Every `for` loop iterates through here: one iteration of the budget each (a range
        already paid for its items when it was made), and a look at the clock."""
        counted = not isinstance(iterable, range)
        for item in iterable:
            check_time()
            if counted:
                limits.charge_iterations(1)
            yield item

    def limited_concat(self, parts: Iterable[Any]) -> str:
        """`a ~ b`: every part measured before it is written."""
        check_time()
        room = limits.current.max_output
        texts = []
        for part in parts:
            room -= check_size(part, "the result of ~", room)
            texts.append(str(part))
        limits.charge_built(limits.current.max_output - room)
        return "".join(texts)

    def concat(self, chunks: Iterable[str]) -> str:
        """The whole output of a render (and of `{% set %}` blocks), counted chunk by chunk."""
        room = limits.current.max_output
        texts = []
        for chunk in chunks:
            check_time()
            room -= len(chunk)
            if room < 0:
                raise TemplateLimitExceeded("template output", "max_output")
            texts.append(chunk)
        limits.charge_built(limits.current.max_output - room)
        return "".join(texts)

    @staticmethod
    def _finalize(value: Any) -> Any:
        """Each `{{ ... }}` of a template, measured before it is written."""
        check_time()
        check_size(value, "template output")
        return value

    @staticmethod
    def _range(*args: Any) -> range:
        numbers = range(*args)
        try:
            count = len(numbers)
        except OverflowError:  # more items than an index can count
            count = limits.current.max_iterations + 1
        limits.charge_iterations(count)
        return numbers


def _check_binop(op: str, left: Any, right: Any) -> None:
    ints = isinstance(left, int) and isinstance(right, int)
    if ints:
        check_int_bits(max(left.bit_length(), right.bit_length()), f"an operand of {op}")
        if op == "**" and right > 0 and abs(left) > 1:
            check_int_bits((abs(left).bit_length() - 1) * right, "the result of **")
        elif op == "*":
            check_int_bits(left.bit_length() + right.bit_length() - 1, "the result of *")
        return
    if op == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(count, int) and isinstance(seq, str | bytes | list | tuple) and count > 0:
                # a repeated list writes its elements `count` times, however short it looks
                per_copy = limits.size_of(seq, limits.current.max_output // count + 1)
                check_length(per_copy * count, "the result of *")
                check_length(len(seq) * count, "the result of *")
    elif op == "+" and isinstance(left, str | bytes | list | tuple) and isinstance(right, str | bytes | list | tuple):
        check_length(len(left) + len(right), "the result of +")
    elif op == "%" and isinstance(left, str | bytes):
        check_length(_percent_format_size(left, right), "the result of %")


def _limited_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that measures what it is given (when it writes it out) and what it returns,
    and refuses the arguments that would make its result too large."""
    skip = 1 if hasattr(func, "jinja_pass_arg") else 0  # the context/environment Jinja passes first
    measures_input = name not in _NOT_WRITING
    precheck = _FILTER_CHECKS.get(name)
    given, made = f"the input of the {name} filter", f"the result of the {name} filter"

    def limited(*args: Any, **kwargs: Any) -> Any:
        check_time()
        if len(args) > skip:
            value = args[skip]
            if measures_input:
                check_size(value, given)
            if precheck is not None:
                rest = args[skip + 1 :]
                replaced = precheck(value, rest, kwargs)
                if replaced is not None:
                    args = (*args[:skip], replaced, *rest)
        result = func(*args, **kwargs)
        check_value(result, made)
        return result

    return update_wrapper(limited, func)


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _check_center(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    check_length(_arg(args, kwargs, 0, "width", 80), "the center filter")


def _check_indent(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    width = _arg(args, kwargs, 0, "width", 4)
    per_line = len(width) if isinstance(width, str) else width
    if isinstance(per_line, int):
        text = _text_of(value)
        check_length(len(text) + (text.count("\n") + 1) * per_line, "the indent filter")


def _check_wordwrap(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    text = _text_of(value)
    width = _arg(args, kwargs, 0, "width", 79)
    wrapstring = _arg(args, kwargs, 2, "wrapstring") or "\n"
    if isinstance(width, int) and width > 0 and isinstance(wrapstring, str):
        lines = text.count(" ") + len(text) // width + 1
        check_length(len(text) + lines * len(wrapstring), "the wordwrap filter")


def _check_replace_filter(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    count = _arg(args, kwargs, 2, "count")
    _check_replace(_text_of(value), args[:2], {"count": -1 if count is None else count})


def _check_format(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if isinstance(value, str):
        check_length(_percent_format_size(value, kwargs or args), "the format filter")


def _check_join(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any] | None:
    if value is None or isinstance(value, str):
        return None
    separator = _arg(args, kwargs, 0, "sep", "")
    return _joined(separator if isinstance(separator, str) else "", value, "the join filter")


def _check_sum(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any] | None:
    start = _arg(args, kwargs, 1, "start", 0)
    if isinstance(start, int | float):
        return None
    # sum() of lists copies the growing list once per item: bound what it copies, then what it writes
    cap = limits.current.max_output
    items = value if isinstance(value, list | tuple) else list(islice(value, cap + 1))
    check_length(len(items), "the result of the sum filter")
    copied = len(items) * sum(len(item) for item in items if isinstance(item, list | tuple | str))
    if copied > limits.BUILD_FACTOR * cap:  # a few tens of milliseconds of copying
        raise TemplateLimitExceeded("what the sum filter copies", "copied")
    return _joined("", items, "the result of the sum filter")


def _check_filling(value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    # batch(linecount, fill_with) pads its last group to `linecount`; slice(slices) makes `slices` groups
    count = args[0] if args else kwargs.get("linecount", kwargs.get("slices"))
    check_length(count, "the batch or slice filter")


_FILTER_CHECKS: dict[str, Callable[[Any, tuple[Any, ...], dict[str, Any]], Any]] = {
    "center": _check_center,
    "indent": _check_indent,
    "wordwrap": _check_wordwrap,
    "replace": _check_replace_filter,
    "format": _check_format,
    "join": _check_join,
    "sum": _check_sum,
    "batch": _check_filling,
    "slice": _check_filling,
}


def _timed_test(func: Any) -> Any:
    """A test (`is ...`, `select('in', ...)`): filters like select call it once per item."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        check_time()
        return func(*args, **kwargs)

    return update_wrapper(timed, func)


def _build() -> FlowEnvironment:
    env = FlowEnvironment(undefined=StrictUndefined, autoescape=False, cache_size=0)
    env.filters.update(FILTERS)
    env.filters = {name: _limited_filter(name, func) for name, func in env.filters.items()}
    env.tests = {name: _timed_test(func) for name, func in env.tests.items()}
    return env


ENV = _build()
