"""The sandbox account's date preference, and how SuiteQL answers dates.

SuiteQL returns date and date-time columns as text in the account's (or user's) date
format preference, not in ISO 8601; `TO_CHAR(column, 'format')` gives a fixed form. The
forms ("10/05/2018", "10/05/2018 10:15 am", duration "25:45") are on
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157305090645.html
(Using Datetime Fields), which also says that record-collection filtering goes through
N/query and "uses a different date format" from the ISO UTC stamps of the record API.
That SuiteQL answers by the preference is issue 14's finding: no Oracle page found for it.
The preference is a sandbox record (`accountPreference/general`), so a test can switch it.
"""

from __future__ import annotations

import re
from datetime import datetime

from integrations.sandboxes import framework_records as store
from integrations.sandboxes.netsuite import VENDOR

PREFERENCES = "accountPreference"
DEFAULT_DATE_FORMAT = "M/D/YYYY"  # NetSuite's default for a US account
DATE_FORMATS = ("M/D/YYYY", "D/M/YYYY", "D.M.YYYY", "DD/MM/YYYY", "MM/DD/YYYY", "YYYY-MM-DD", "DD-Mon-YYYY")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date_format() -> str:
    row = store.get(VENDOR, PREFERENCES, "general")
    fmt = (row.data if row else {}).get("dateFormat")
    return fmt if fmt in DATE_FORMATS else DEFAULT_DATE_FORMAT


def set_date_format(fmt: str) -> None:
    if fmt not in DATE_FORMATS:
        raise ValueError(f"unknown date format {fmt!r}")
    row = store.get(VENDOR, PREFERENCES, "general")
    if row is None:
        store.create(VENDOR, PREFERENCES, "general", {"dateFormat": fmt})
    else:
        store.update(row, {"dateFormat": fmt})


def _parse(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _date_part(moment: datetime, fmt: str) -> str:
    tokens = {
        "YYYY": f"{moment.year:04d}",
        "MM": f"{moment.month:02d}",
        "DD": f"{moment.day:02d}",
        "Mon": _MONTHS[moment.month - 1],
        "M": str(moment.month),
        "D": str(moment.day),
    }
    return re.sub(r"YYYY|MM|DD|Mon|M|D", lambda m: tokens[m.group(0)], fmt)


def present(value: object, *, with_time: bool, fmt: str | None = None) -> object:
    """An ISO date or date-time as SuiteQL answers it in this account: `4/16/2025`, and a
    date-time with the time as `4/16/2025 3:04 pm` [time form unverified]."""
    if not isinstance(value, str):
        return value
    moment = _parse(value)
    if moment is None:
        return value
    text = _date_part(moment, fmt or date_format())
    if with_time and "T" in value:
        hour = moment.hour % 12 or 12
        text += f" {hour}:{moment.minute:02d} {'am' if moment.hour < 12 else 'pm'}"
    return text


_ORACLE = re.compile(r'YYYY|MM|DD|HH24|MI|SS|"[^"]*"|.', re.DOTALL)


def to_char(value: object, fmt: str) -> object:
    """Oracle's TO_CHAR for the tokens a poller uses (YYYY MM DD HH24 MI SS, "quoted text")."""
    moment = _parse(value) if isinstance(value, str) else None
    if moment is None:
        return value
    parts = {
        "YYYY": f"{moment.year:04d}",
        "MM": f"{moment.month:02d}",
        "DD": f"{moment.day:02d}",
        "HH24": f"{moment.hour:02d}",
        "MI": f"{moment.minute:02d}",
        "SS": f"{moment.second:02d}",
    }
    out = []
    for token in _ORACLE.findall(fmt):
        if token in parts:
            out.append(parts[token])
        elif token.startswith('"') and len(token) > 1:
            out.append(token[1:-1])
        else:
            out.append(token)
    return "".join(out)
