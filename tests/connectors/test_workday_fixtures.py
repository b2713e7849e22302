"""Workday contract fixtures (tests/connectors/fixtures/workday/): each documented request
gets the documented answer from the sandbox, and the connector sends the documented request.
Workday's own reference is behind its community login, so these cite its REST directory's
anchors as read through public listings of it, and say in `unverified` what they could not show."""

from __future__ import annotations

import base64

import pytest

from integrations.sandboxes.credentials import sandbox_credentials
from integrations.sandboxes.workday import REPORT_NAME, REPORT_OWNER, TENANT, VENDOR
from integrations.sandboxes.workday.auth import isu_username
from integrations.sandboxes.workday.seed import project_id, seed, time_entry_code_id
from tests.connectors.fixtures import runner
from tests.connectors.test_workday import a_worker, connector_for

pytestmark = pytest.mark.django_db(transaction=True)
FIXTURES = runner.load("workday")


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f["title"][:60] for f in FIXTURES])
def test_workday_fixture(fixture, origin):
    seed("test")
    login = f"{isu_username()}:{sandbox_credentials(VENDOR)['password']}".encode()
    values = {
        "tenant": TENANT,
        "owner": REPORT_OWNER,
        "report": REPORT_NAME,
        "basic": "Basic " + base64.b64encode(login).decode(),
        "worker": a_worker(),
        "code": time_entry_code_id("billable"),
        "project": project_id("PRJ-2025-0001"),
    }
    fixture = runner.fill(fixture, values)
    runner.check_sandbox(connector_for(origin), fixture)
    runner.check_connector(lambda record: connector_for(origin, on_attempt=record), fixture)
