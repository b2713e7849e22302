"""Dataverse contract fixtures (tests/connectors/fixtures/dynamics/): each documented request
gets the documented answer from the sandbox, and the connector sends the documented request."""

from __future__ import annotations

import pytest

from integrations.connectors.dynamics import DynamicsConnector
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.dynamics import VENDOR
from integrations.sandboxes.dynamics.seed import seed
from tests.connectors.fixtures import runner
from tests.connectors.test_dynamics import connector_for

pytestmark = pytest.mark.django_db(transaction=True)
FIXTURES = runner.load("dynamics")


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f["title"][:60] for f in FIXTURES])
def test_dynamics_fixture(fixture, sandbox_origin):
    seed("test")
    conn = connector_for(sandbox_origin)
    opens = [r.record_id for r in store.records(VENDOR, "opportunities").order_by("id") if r.data["statecode"] == 0]
    values = {"open_opportunity": opens[0], "second_open_opportunity": opens[1], "api": conn.url(conn.api)}
    fixture = runner.fill(fixture, values)
    runner.check_sandbox(conn, fixture)
    runner.check_connector(lambda record: DynamicsConnector(conn.connection, on_attempt=record), fixture)
