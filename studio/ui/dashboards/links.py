"""The lists a dashboard number opens, with the filters that make them count the same rows."""

from datetime import date
from urllib.parse import urlencode

from django.urls import reverse


def _with(url: str, params: dict) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{url}?{urlencode(kept)}" if kept else url


def runs(since: date | None = None, until: date | None = None, **filters) -> str:
    dates = {"since": since.isoformat() if since else None, "until": until.isoformat() if until else None}
    return _with(reverse("runs:list"), {**filters, **dates})


def exceptions(**filters) -> str:
    return _with(reverse("exceptions:list"), filters)


def connection(name: str) -> str:
    return reverse("connections:detail", args=[name])
