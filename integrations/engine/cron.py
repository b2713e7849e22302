"""Checks a five-field cron expression (minute hour day-of-month month day-of-week)."""

from __future__ import annotations

import re

_NAMES = {
    3: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    4: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
}
_BOUNDS = [(0, 59, "minute"), (0, 23, "hour"), (1, 31, "day of month"), (1, 12, "month"), (0, 7, "day of week")]
_ITEM = re.compile(r"^(?P<range>\*|(?P<lo>\w+)(?:-(?P<hi>\w+))?)(?:/(?P<step>\d+))?$")


def _number(text: str, position: int) -> int | None:
    if text.isdigit():
        return int(text)
    names = _NAMES.get(position, [])
    lowered = text.lower()
    if lowered in names:
        return names.index(lowered) + (1 if position == 3 else 0)
    return None


def cron_problem(expression: str) -> str | None:
    """None when the expression is valid, else what is wrong with it."""
    parts = expression.split()
    if len(parts) != 5:
        return f"a cron expression has 5 fields (minute hour day month weekday), this has {len(parts)}"
    for position, (part, (low, high, label)) in enumerate(zip(parts, _BOUNDS, strict=True)):
        for item in part.split(","):
            match = _ITEM.match(item)
            if not match:
                return f"{label} field {part!r} is not valid"
            if match["step"] is not None and int(match["step"]) == 0:
                return f"{label} field {part!r} has a step of 0"
            for bound in (match["lo"], match["hi"]):
                if bound is None:
                    continue
                value = _number(bound, position)
                if value is None or not low <= value <= high:
                    return f"{label} {bound!r} is out of range {low}-{high}"
    return None
