"""The assertions every vendor contract test makes in the same shape: a refused call, a
transient (throttled or unavailable) answer, an upsert repeated into one record, a malformed
request answered 4xx. Each vendor file keeps only its own data and quirks."""

from __future__ import annotations

import pytest

from integrations.connectors.errors import ConnectorError

ANY = object()  # a field the caller does not check


def refusal(call, *args, **kwargs) -> ConnectorError:
    """The ConnectorError `call(*args, **kwargs)` must raise."""
    with pytest.raises(ConnectorError) as err:
        call(*args, **kwargs)
    return err.value


def limit_sandbox(vendor: str, requests: int, window_seconds: int) -> None:
    """Give the vendor's sandbox a rate limit of `requests` per `window_seconds`."""
    from integrations.sandboxes.framework import setting_for

    cfg = setting_for(vendor)
    cfg.rate_limit_per_window, cfg.window_seconds = requests, window_seconds
    cfg.save()


def assert_transient(error: ConnectorError, *, status=ANY, retry_after=ANY, vendor_code=ANY) -> None:
    """A throttled or unavailable answer: retry later, with the vendor's status, wait and code."""
    assert error.kind == "transient", error
    if status is not ANY:
        assert error.status_code == status, error
    if retry_after is not ANY:
        assert error.retry_after == retry_after, error
    if vendor_code is not ANY:
        assert error.vendor_code == vendor_code, error


def assert_upserted_once(first, second, rows, *, reports_created: bool = True):
    """Two upserts under one external id: the second updated the first's record, and the
    sandbox holds exactly one. Returns that record."""
    assert first.remote_id and first.remote_id == second.remote_id
    if reports_created:
        assert first.created and not second.created
    assert rows.count() == 1
    return rows.get()


def assert_malformed_is_4xx(connector, method: str, path: str, body: bytes) -> None:
    """A request the vendor cannot parse or accept: its own 4xx with an error code, never a 500."""
    error = refusal(connector.request, method, path, content=body, headers={"Content-Type": "application/json"})
    assert 400 <= error.status_code < 500 and error.vendor_code, error


def demo_connector(vendor: str, seed):
    """The demo's connection to `vendor`, created as the demo loader creates it, against the
    freshly seeded sandbox: its connector, once `test()` has passed."""
    from integrations.connections.demo import ACTOR, demo_values
    from integrations.connections.services import create_connection
    from integrations.connectors.registry import get_connector

    seed("test")
    connector = get_connector(create_connection(ACTOR, name=vendor, kind=vendor, **demo_values(vendor)))
    result = connector.test()
    assert result.ok, result.message
    return connector
