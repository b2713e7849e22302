"""Error classification shared by every connector."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from integrations.connectors.errors import ConnectorError, classify_status, parse_retry_after


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "permanent"),
        (401, "permanent"),
        (404, "permanent"),
        (409, "permanent"),
        (422, "permanent"),
        (408, "transient"),
        (429, "transient"),
        (500, "transient"),
        (502, "transient"),
        (503, "transient"),
        (504, "transient"),
        (599, "transient"),
    ],
)
def test_status_classes(status, kind):
    assert classify_status(status)[0] == kind


def test_retry_after_in_seconds_and_as_an_http_date():
    assert parse_retry_after("120") == 120.0
    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    when = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(when, now=now) == 90.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert classify_status(429, "7") == ("transient", 7.0)


def test_error_kind_is_checked():
    assert ConnectorError("x", kind="transient").transient
    assert not ConnectorError("x").transient
    with pytest.raises(ValueError, match="kind"):
        ConnectorError("x", kind="maybe")
