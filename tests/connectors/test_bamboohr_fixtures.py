"""BambooHR contract fixtures (tests/connectors/fixtures/bamboohr/): each documented request
gets the documented answer from the sandbox, and the connector sends the documented request."""

from __future__ import annotations

import pytest

from integrations.connectors.bamboohr import BambooHRConnector
from integrations.sandboxes import framework_records as store
from integrations.sandboxes.bamboohr import VENDOR
from integrations.sandboxes.bamboohr.seed import seed
from tests.connectors.fixtures import runner
from tests.connectors.test_bamboohr import connector_for

pytestmark = pytest.mark.django_db(transaction=True)
FIXTURES = runner.load("bamboohr")


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f["title"][:60] for f in FIXTURES])
def test_bamboohr_fixture(fixture, origin):
    seed("test")
    conn = connector_for(origin)
    employee = store.records(VENDOR, "employee").order_by("id").first().record_id
    fixture = runner.fill(fixture, {"employee": employee})
    runner.check_sandbox(conn, fixture)
    runner.check_connector(lambda record: BambooHRConnector(conn.connection, on_attempt=record), fixture)
