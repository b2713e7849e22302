"""Conditions (`when` of steps, route rules and validate rules): Jinja2 expressions parsed once
in the sandbox, never Python eval.

Fast path: `<ref> <op> <literal>` (e.g. `record.region == 'EMEA'`, `record.amount > 100`,
`record.status in ['won', 'closed']`), optionally joined by `and` / `or`, compiles to native
comparisons. Anything the fast path does not model (missing key, type mismatch) falls back to
the Jinja2 expression, so errors and results match exactly."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import Any

from jinja2 import Undefined

from . import limits
from .errors import TemplateFailure
from .sandbox import ENV
from .templating import REFERENCE, compile_reference, describe_failure

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}
_LITERAL = r"(?:-?\d+(?:\.\d+)?|'[^'\\]*'|\"[^\"\\]*\"|true|false|none|True|False|None|\[[^\[\]]*\])"
_COMPARISON = re.compile(rf"^\s*(?P<ref>{REFERENCE})\s*(?P<op>==|!=|>=|<=|>|<|not in|in)\s*(?P<lit>{_LITERAL})\s*$")
_JINJA_CONSTANTS = {"true": "True", "false": "False", "none": "None"}


def _literal(text: str) -> Any:
    return ast.literal_eval(_JINJA_CONSTANTS.get(text, text))


def _comparison(text: str) -> Callable[[dict[str, Any]], bool] | None:
    match = _COMPARISON.match(text)
    if not match:
        return None
    getter = compile_reference(match["ref"])
    if getter is None:
        return None
    try:
        literal = _literal(match["lit"])
    except (ValueError, SyntaxError):
        return None
    compare = _OPS[match["op"]]
    return lambda ctx: compare(getter(ctx), literal)


def _fast_path(source: str) -> Callable[[dict[str, Any]], bool] | None:
    for joiner, combine in ((" or ", any), (" and ", all)):
        if joiner in source:
            # a joiner inside a quoted literal leaves an unterminated part, which does not match
            parts = [_comparison(part) for part in source.split(joiner)]
            if any(part is None for part in parts):
                return None
            return lambda ctx, parts=parts, combine=combine: combine(bool(p(ctx)) for p in parts)  # type: ignore[misc]
    single = _comparison(source)
    return (lambda ctx: bool(single(ctx))) if single else None


class CompiledCondition:
    __slots__ = ("_fast", "_slow", "fast", "source")

    def __init__(self, source: str):
        """Raises jinja2.TemplateSyntaxError when the expression does not parse."""
        self.source = source
        self._slow = ENV.compile_expression(source, undefined_to_none=False)
        self._fast = None if (" and " in source and " or " in source) else _fast_path(source)
        self.fast = self._fast is not None

    def _evaluate_slow(self, ctx: dict[str, Any]) -> bool:
        limits.start_render()
        try:
            result = self._slow(ctx)
            if isinstance(result, Undefined):
                result._fail_with_undefined_error()
            return bool(result)
        finally:
            limits.end_render()

    def __call__(self, ctx: dict[str, Any]) -> bool:
        """True/False for this record; raises TemplateFailure (e.g. an undefined field)."""
        if self._fast is not None:
            try:
                return self._fast(ctx)
            except Exception:  # noqa: S110 - the sandboxed path below reports the real error
                pass
        try:
            return self._evaluate_slow(ctx)
        except TemplateFailure:
            raise
        except Exception as exc:
            raise TemplateFailure(describe_failure(exc)) from None


def compile_condition(source: str) -> CompiledCondition:
    return CompiledCondition(source)
