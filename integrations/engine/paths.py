"""JSONPath sources compiled once per plan.

Plain paths (`$`, `$.a.b`, `$.a[0].c`, `$['odd key']`) become Python: the map step inlines
them as subscript chains in generated code, everything else gets a closure. Only
expressions that need a real JSONPath engine (wildcards, filters, slices, recursive
descent, unions) go to jsonpath-ng, parsed once here and never per record.

Semantics: a plain path yields one value or MISSING. A jsonpath-ng path yields the list of
every match; no match counts as MISSING."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext.parser import parse as jsonpath_parse


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

Token = str | int
_SEGMENT = re.compile(r"""\.([A-Za-z_][A-Za-z0-9_]*)|\[(-?\d+)\]|\['([^'\\]*)'\]|\["([^"\\]*)"\]""")


class PathError(ValueError):
    """A JSONPath that cannot be parsed (definition time) or evaluated (run time)."""


def simple_tokens(path: str) -> list[Token] | None:
    """Tokens of a plain path, or None when the path needs jsonpath-ng."""
    if not path.startswith("$"):
        return None
    tokens: list[Token] = []
    pos = 1
    while pos < len(path):
        match = _SEGMENT.match(path, pos)
        if not match:
            return None
        name, index, quoted1, quoted2 = match.groups()
        tokens.append(int(index) if index is not None else (name or quoted1 or quoted2 or ""))
        pos = match.end()
    return tokens


def subscript_code(var: str, source: str, tokens: list[Token]) -> list[str]:
    """Python statements (for generated code) that set `var` to the value at `tokens` in `source`.

    List indexes are only applied to lists, so `$.name[0]` on a string is missing rather
    than its first character, as in JSONPath. Lookup failures raise KeyError, IndexError or
    TypeError, which the caller turns into MISSING."""
    lines: list[str] = []
    expr = source
    for token in tokens:
        if isinstance(token, int):
            lines.append(f"{var} = {expr}")
            lines.append(f"if {var}.__class__ is not list: raise TypeError")
            expr = f"{var}[{token!r}]"
        else:
            expr += f"[{token!r}]"
    lines.append(f"{var} = {expr}")
    return lines


def _simple_getter(tokens: list[Token]) -> Callable[[Any], Any]:
    def get(data: Any) -> Any:
        for token in tokens:
            if isinstance(token, int):
                if data.__class__ is not list:
                    return MISSING
                try:
                    data = data[token]
                except IndexError:
                    return MISSING
            elif isinstance(data, dict) and token in data:
                data = data[token]
            else:
                return MISSING
        return data

    return get


def _jsonpath_getter(path: str) -> Callable[[Any], Any]:
    try:
        expr = jsonpath_parse(path)
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:  # jsonpath-ng raises bare Exceptions too
        raise PathError(f"not a valid JSONPath: {exc}") from None

    def get(data: Any) -> Any:
        try:
            values = [match.value for match in expr.find(data)]
        except Exception as exc:  # filters comparing mixed types, etc.
            raise PathError(f"cannot evaluate {path}: {exc}") from None
        return values if values else MISSING

    return get


def compile_path(path: str) -> Callable[[Any], Any]:
    """A getter for `path`; raises PathError when the path does not parse."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise PathError("a source path starts with '$', e.g. $.Account.Name")
    tokens = simple_tokens(path)
    if tokens is not None:
        return _simple_getter(tokens)
    return _jsonpath_getter(path)
