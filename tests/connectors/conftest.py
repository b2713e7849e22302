"""Fixtures every vendor contract test uses."""

import pytest

# The shared assertions report their operands like a test's own asserts do.
pytest.register_assert_rewrite("tests.connectors.shapes")

from tests.connectors.contract import use_sandboxes  # noqa: E402


@pytest.fixture
def sandbox_origin(live_server, settings):
    """The live server's origin, serving the vendor sandboxes the connectors call."""
    return use_sandboxes(live_server, settings)


@pytest.fixture
def origin(sandbox_origin):
    return sandbox_origin
