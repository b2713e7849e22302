"""The lists a dashboard number opens, with the filters that make them count the same rows."""

from datetime import date
from functools import lru_cache
from urllib.parse import urlencode

from django.urls import get_script_prefix, reverse


def _with(url: str, params: dict) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{url}?{urlencode(kept)}" if kept else url


@lru_cache(maxsize=16)
def _list(name: str, prefix: str) -> str:
    """A list's address, reversed once per script prefix: a chart links each of its bars."""
    return reverse(name)


def runs(since: date | None = None, until: date | None = None, **filters) -> str:
    dates = {"since": since.isoformat() if since else None, "until": until.isoformat() if until else None}
    return _with(_list("runs:list", get_script_prefix()), {**filters, **dates})


def exceptions(**filters) -> str:
    return _with(_list("exceptions:list", get_script_prefix()), filters)


def connection(name: str) -> str:
    return reverse("connections:detail", args=[name])
