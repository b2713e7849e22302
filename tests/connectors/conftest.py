"""Fixtures every vendor contract test uses."""

import pytest

# The shared assertions report their operands like a test's own asserts do.
pytest.register_assert_rewrite("tests.connectors.shapes")

from integrations.connectors.kantata import KantataConnector  # noqa: E402
from integrations.sandboxes.credentials import sandbox_credentials  # noqa: E402
from integrations.sandboxes.kantata import VENDOR as KANTATA  # noqa: E402
from integrations.sandboxes.kantata.seed import seed as seed_kantata  # noqa: E402
from tests.connectors.contract import make_connection, use_sandboxes  # noqa: E402


@pytest.fixture
def sandbox_origin(live_server, settings):
    """The live server's origin, serving the vendor sandboxes the connectors call."""
    return use_sandboxes(live_server, settings)


@pytest.fixture
def origin(sandbox_origin):
    return sandbox_origin


@pytest.fixture
def kantata(sandbox_origin):
    """A Kantata connector on the sandbox, which holds the test firm."""
    seed_kantata("test")
    token = sandbox_credentials(KANTATA)["access_token"]
    return KantataConnector(
        make_connection(KANTATA, f"{sandbox_origin}/sandbox/{KANTATA}", {}, {"access_token": token})
    )
