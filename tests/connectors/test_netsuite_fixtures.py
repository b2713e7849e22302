"""NetSuite contract fixtures (tests/connectors/fixtures/netsuite/): each documented request
gets the documented answer from the sandbox, and the connector sends the documented request."""

from __future__ import annotations

import pytest

from integrations.sandboxes.netsuite.seed import seed
from tests.connectors.fixtures import runner
from tests.connectors.test_netsuite import connector_for

pytestmark = pytest.mark.django_db(transaction=True)
FIXTURES = runner.load("netsuite")


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f["title"][:60] for f in FIXTURES])
def test_netsuite_fixture(fixture, origin):
    seed("test")
    runner.check_sandbox(connector_for(origin), fixture)
    runner.check_connector(lambda record: connector_for(origin, on_attempt=record), fixture)
