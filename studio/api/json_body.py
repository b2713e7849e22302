"""The one reader of JSON request bodies. The DRF parser below, the invoke gateway
(studio/api/invoke_gateway.py) and the webhook intake (studio/hooks.py) all decode through
`loads`, so every entry point refuses the same bodies with the same words.

Nesting is bounded by settings.SWITCHBOARD_JSON_MAX_DEPTH (64 by default; `{}` is one level):
the stdlib decoder recurses once per level and dies with RecursionError near 1,000, and
nothing the studio stores — events, records, flow definitions — needs more than a few
dozen. A string holding the NUL character (`\\u0000`) is refused too: PostgreSQL cannot
store it in a JSON column, and the same body must not be fine on one database and a 500 on
the other. The stdlib decoder is kept for what DRF promises: exact big integers; NaN and
Infinity are refused (they are not JSON)."""

import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError


class BodyRefused(ValueError):
    """Valid JSON the studio does not take; `code` names the rule for the problem type."""

    code = "refused"


class BodyTooDeep(BodyRefused):
    code = "too_deep"

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(f"The JSON body is nested deeper than {limit} levels; that is the limit for every JSON body.")


class BodyHasNul(BodyRefused):
    code = "nul_character"

    def __init__(self):
        super().__init__("JSON strings may not contain the NUL character (\\u0000); it cannot be stored.")


def max_depth() -> int:
    return settings.SWITCHBOARD_JSON_MAX_DEPTH


def loads(body: bytes | str):
    """The decoded body; ValueError if it is not JSON, BodyRefused (a ValueError) if it
    nests deeper than the limit or holds a NUL character."""
    limit = max_depth()
    try:
        value = json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        raise BodyTooDeep(limit) from None
    if _may_nest_deeper(body, limit) and _deeper_than(value, limit):
        raise BodyTooDeep(limit)
    # Only a body with the escape can hold a NUL (the decoder refuses a raw one); the walk
    # tells `\u0000` from an escaped backslash followed by "u0000".
    if (b"\\u0000" if isinstance(body, bytes) else "\\u0000") in body and _has_nul(value):
        raise BodyHasNul()
    return value


def _may_nest_deeper(body: bytes | str, limit: int) -> bool:
    """False when the body has too few brackets to nest past the limit (the common case,
    counted at C speed, so small records skip the walk)."""
    opening = (b"[", b"{") if isinstance(body, bytes) else ("[", "{")
    return body.count(opening[0]) + body.count(opening[1]) > limit


def _deeper_than(value, limit: int) -> bool:
    if not isinstance(value, dict | list):
        return False
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if level > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, level + 1))
    return False


def _has_nul(value) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class JSONBodyParser(parsers.JSONParser):
    """DRF's JSON parser through `loads`: a body nested too deep is a 400 naming the limit
    (`urn:switchboard:problem:too-deep`), never a RecursionError; one with a NUL character is
    a 400 too (`...:nul-character`), never a database error."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return loads(stream.read().decode(encoding))
        except BodyRefused as exc:
            raise ParseError(str(exc), code=exc.code) from None
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise ParseError(f"JSON parse error - {exc}") from None


def require_object(data):
    """The parsed body when it is a JSON object (or form data); anything else is a 400
    naming the body, instead of a view calling `.get` on a list or None."""
    if isinstance(data, dict):  # QueryDict (form bodies) is a dict too
        return data
    raise ValidationError({"body": [f"Expected a JSON object, got {json_type(data)}."]})


def json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else type(value).__name__
