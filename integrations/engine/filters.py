"""The registered template filters (documented in docs/FLOW_DEFINITION.md).

Each filter is a plain function so the native fast path of templates can call it directly
with exactly the behaviour the Jinja2 sandbox gives. Bad input raises ValueError with a
message an analyst can act on; the map step reports it against the field."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from jinja2 import Undefined, pass_context

_NUMBER_JUNK = re.compile(r"[,\s_]")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def _absent(value: Any) -> bool:
    return value is None or isinstance(value, Undefined) or value == ""


def as_date(value: Any, fmt: str | None = None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC).date()
    if isinstance(value, str):
        try:
            if fmt:
                return datetime.strptime(value.strip(), fmt).date()
            text = value.strip()
            return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date (expected {fmt or 'YYYY-MM-DD'})")


def as_datetime(value: Any, fmt: str | None = None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            return datetime.strptime(value.strip(), fmt) if fmt else datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date-time (expected {fmt or 'ISO 8601'})")


def format_date(value: Any, fmt: str = "%Y-%m-%d") -> str | None:
    if value is None:
        return None
    moment = value if isinstance(value, date) else as_datetime(value)
    return moment.strftime(fmt) if moment is not None else None


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None or isinstance(value, Undefined):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(_NUMBER_JUNK.sub("", value))
        except InvalidOperation:
            pass
    raise ValueError(f"{value!r} is not a number")


def as_number(value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    number = _decimal(value)
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return int(number) if number == number.to_integral_value() and "." not in str(value) else float(number)


def round_money(value: Any, places: int = 2) -> float | None:
    if value is None:
        return None
    number = _decimal(value)
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite amount")
    return float(number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def format_money(value: Any, currency: str = "USD", places: int = 2) -> str | None:
    amount = round_money(value, places)
    return None if amount is None else f"{currency} {amount:,.{places}f}"


def upper(value: Any) -> Any:
    return value if value is None else str(value).upper()


def lower(value: Any) -> Any:
    return value if value is None else str(value).lower()


def trim(value: Any) -> Any:
    return value if value is None else str(value).strip()


_LETTERS = str.maketrans(
    {
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "þ": "th",
        "Þ": "TH",
    }
)


def slug(value: Any, sep: str = "-") -> Any:
    if value is None:
        return None
    text = str(value).translate(_LETTERS)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _SLUG_JUNK.sub(sep, ascii_text.lower()).strip(sep)


def truncate(value: Any, length: int = 255, end: str = "") -> Any:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= length else text[: max(length - len(end), 0)] + end


def split(value: Any, sep: str | None = None, maxsplit: int = -1) -> list[str]:
    if value is None:
        return []
    return [part.strip() for part in str(value).split(sep, maxsplit)] if sep else str(value).split(None, maxsplit)


def join(value: Any, sep: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return sep.join(str(item) for item in value if item is not None)


def default(value: Any, fallback: Any = "") -> Any:
    """`fallback` when the value is missing, null or an empty string."""
    return fallback if _absent(value) else value


def coalesce(value: Any, *others: Any) -> Any:
    """The first of the value and the arguments that is not missing, null or empty."""
    for candidate in (value, *others):
        if not _absent(candidate):
            return candidate
    return None


NO_FALLBACK: Any = object()  # map_value's fallback when none is given: an unmapped value is an error


def map_value(value_maps: dict[str, dict[str, Any]], name: str, value: Any, fallback: Any) -> Any:
    table = value_maps.get(name)
    if table is None:
        raise ValueError(f"there is no value map named {name!r}")
    key = value if isinstance(value, str) else _key(value)
    if key in table:
        return table[key]
    if fallback is not NO_FALLBACK:
        return fallback
    raise ValueError(f"{value!r} is not in value map {name!r}")


def _key(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return str(value)


@pass_context
def value_map(context: Any, value: Any, name: str, fallback: Any = NO_FALLBACK) -> Any:
    return map_value(context.get("value_maps") or {}, name, value, fallback)


FILTERS: dict[str, Callable[..., Any]] = {
    "as_date": as_date,
    "as_datetime": as_datetime,
    "format_date": format_date,
    "as_number": as_number,
    "round_money": round_money,
    "format_money": format_money,
    "upper": upper,
    "lower": lower,
    "trim": trim,
    "slug": slug,
    "truncate": truncate,
    "split": split,
    "join": join,
    "default": default,
    "coalesce": coalesce,
    "value_map": value_map,
}
