"""Templates compiled once per plan, with a native fast path for the common shapes.

A template that is a single expression (`{{ ... }}` and nothing else) keeps the native type
of its result (a number stays a number). Any other template renders to a string.

Fast path: `{{ value }}` or `{{ record.a.b }}` followed by registered filters with literal
arguments (`{{ value | trim | upper }}`, `{{ record.amount | round_money(2) }}`) becomes a
Python function calling the same filter functions. If the fast path meets anything it does
not model (a missing key, a non-dict on the way, a filter raising), the Jinja2 sandbox
evaluates the template instead, so both paths give the same result or the same error."""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable
from typing import Any

from jinja2 import Undefined, nodes
from jinja2.exceptions import TemplateError, TemplateSyntaxError

from . import limits
from .errors import TemplateFailure
from .filters import FILTERS
from .sandbox import ENV

_SINGLE = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}|\{%|\{#).)*)\}\}\s*$", re.S)
# a reference to context data (`record.a.b`): what the native fast paths of templates and conditions read
REFERENCE = r"(?:value|record|input|steps)(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_FILTER = re.compile(r"\|\s*(?P<name>[A-Za-z_]\w*)\s*(?P<args>\((?:[^()'\"]|'[^']*'|\"[^\"]*\")*\))?\s*")
_FAST = re.compile(rf"^\s*(?P<ref>{REFERENCE})\s*(?P<filters>(?:{_FILTER.pattern})*)$")
_DICT_NAMES = frozenset(dir(dict))


class _Fallback(Exception):
    pass


def compile_reference(ref: str) -> Callable[[dict[str, Any]], Any] | None:
    """A native getter for `record.a.b`-style references, None if Jinja must handle it."""
    root, *names = ref.split(".")
    if any(name in _DICT_NAMES or name.startswith("_") for name in names):
        return None  # Jinja would return the dict method, not the key

    def get(ctx: dict[str, Any]) -> Any:
        data = ctx[root] if root in ctx else _fail()
        for name in names:
            if data.__class__ is not dict or name not in data:
                raise _Fallback
            data = data[name]
        return data

    return get


def _fail() -> Any:
    raise _Fallback


def _fast_filters(text: str) -> list[tuple[Callable[..., Any], tuple[Any, ...], bool]] | None:
    chain: list[tuple[Callable[..., Any], tuple[Any, ...], bool]] = []
    for match in _FILTER.finditer(text):
        func = FILTERS.get(match["name"])
        if func is None:
            return None
        try:
            args = ast.literal_eval(f"({match['args'][1:-1]},)") if match["args"] else ()
        except (ValueError, SyntaxError):
            return None
        chain.append((func, tuple(args), getattr(func, "jinja_pass_arg", None) is not None))
    return chain


def _fast_path(expr: str) -> Callable[[dict[str, Any]], Any] | None:
    match = _FAST.match(expr)
    if not match:
        return None
    getter = compile_reference(match["ref"])
    chain = _fast_filters(match["filters"] or "")
    if getter is None or chain is None:
        return None

    def evaluate(ctx: dict[str, Any]) -> Any:
        value = getter(ctx)
        for func, args, wants_context in chain:
            value = func(ctx, value, *args) if wants_context else func(value, *args)
        return value

    return evaluate


class CompiledTemplate:
    __slots__ = ("_call", "fast", "source")

    def __init__(self, source: str):
        """Raises jinja2.TemplateSyntaxError when the template does not compile."""
        self.source = source
        single = _SINGLE.match(source)
        slow = self._expression(single["expr"]) if single else None
        if slow is None:
            _check_bounded(source)
            slow = _rendering(ENV.from_string(source).render)
        fast = _fast_path(single["expr"]) if single else None
        self.fast = fast is not None
        self._call = self._with_fallback(fast, slow) if fast else slow

    @staticmethod
    def _expression(expr: str) -> Callable[[dict[str, Any]], Any] | None:
        try:
            compiled = ENV.compile_expression(expr, undefined_to_none=False)
        except TemplateError:
            return None

        def evaluate(ctx: dict[str, Any]) -> Any:
            limits.start_render()
            try:
                result = compiled(ctx)
                if isinstance(result, Undefined):
                    result._fail_with_undefined_error()
                limits.check_size(result, "template output")  # the value is stored and sent on as it is
            finally:
                limits.end_render()
            return result

        return evaluate

    @staticmethod
    def _with_fallback(
        fast: Callable[[dict[str, Any]], Any], slow: Callable[[dict[str, Any]], Any]
    ) -> Callable[[dict[str, Any]], Any]:
        def evaluate(ctx: dict[str, Any]) -> Any:
            try:
                return fast(ctx)
            except Exception:
                return slow(ctx)

        return evaluate

    def __call__(self, ctx: dict[str, Any]) -> Any:
        """Evaluate against `ctx` (record, input, steps, value, value_maps); raises TemplateFailure."""
        try:
            return self._call(ctx)
        except TemplateFailure:
            raise
        except Exception as exc:  # filters raise ValueError/TypeError, Jinja raises UndefinedError/SecurityError
            raise TemplateFailure(describe_failure(exc)) from None


def _rendering(render: Callable[[dict[str, Any]], str]) -> Callable[[dict[str, Any]], str]:
    """A template's render inside the time and iteration budget (the sandbox counts the output)."""

    def evaluate(ctx: dict[str, Any]) -> str:
        limits.start_render()
        try:
            return render(ctx)
        finally:
            limits.end_render()

    return evaluate


def _check_bounded(source: str) -> None:
    """Keep a template's cost proportional to its data: no nested or recursive loops, no
    macros (the sandbox already caps range() at 100,000 items). Raises TemplateSyntaxError."""
    tree = ENV.parse(source)
    for block in tree.find_all((nodes.Macro, nodes.CallBlock)):
        raise TemplateSyntaxError("macros are not available in flow templates", block.lineno)
    for loop in tree.find_all(nodes.For):
        if loop.recursive or any(True for _ in loop.find_all(nodes.For)):
            raise TemplateSyntaxError("loops cannot be nested or recursive in flow templates", loop.lineno)


def describe_failure(exc: Exception) -> str:
    """What an analyst reads when a template or condition fails: the message, with the exception
    type when the message alone would not say what went wrong."""
    message = str(exc) or exc.__class__.__name__
    return message if isinstance(exc, ValueError | TemplateError) else f"{exc.__class__.__name__}: {message}"


@functools.lru_cache(maxsize=4096)
def compile_template(source: str) -> CompiledTemplate:
    """Cached by source: validating a draft compiles every template row again on each save, and
    a compiled template keeps no state between renders, so one source can share one."""
    return CompiledTemplate(source)
