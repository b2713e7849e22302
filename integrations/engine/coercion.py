"""The `type` of a map field: converts the value or raises ValueError saying why not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import filters

_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


def to_string(value: Any) -> str:
    if isinstance(value, dict | list):
        raise ValueError(f"{'a list' if isinstance(value, list) else 'an object'} is not a string")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_integer(value: Any) -> int:
    number = filters.as_number(value)
    if isinstance(number, float):
        if not number.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        return int(number)
    return int(number)  # type: ignore[arg-type]


def to_number(value: Any) -> int | float:
    number = filters.as_number(value)
    assert number is not None
    return number


def to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not true or false")


def to_date(value: Any) -> str:
    return filters.as_date(value).isoformat()  # type: ignore[union-attr]


def to_datetime(value: Any) -> str:
    return filters.as_datetime(value).isoformat()  # type: ignore[union-attr]


def to_money(value: Any) -> float:
    amount = filters.round_money(value)
    assert amount is not None
    return amount


COERCIONS: dict[str, Callable[[Any], Any]] = {
    "string": to_string,
    "integer": to_integer,
    "number": to_number,
    "boolean": to_boolean,
    "date": to_date,
    "datetime": to_datetime,
    "money": to_money,
}
