"""The demo connections for Workday, BambooHR, NetSuite and Dynamics work out of the box
against their sandboxes (what `manage.py seed_demo` creates)."""

from __future__ import annotations

import pytest

from integrations.connections.demo import demo_values
from integrations.connections.models import Connection
from integrations.connectors.registry import get_connector
from integrations.events.models import Event
from integrations.sandboxes.admin_api import reset_vendor
from tests.connectors.contract import use_sandboxes, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

FIRST_OBJECT = {"workday": "worker_report", "bamboohr": "employees", "netsuite": "customer", "dynamics": "accounts"}


def demo_connection(vendor: str) -> Connection:
    values = demo_values(vendor)
    connection = Connection(
        name=vendor, kind=vendor, base_url=values["base_url"], config=values["config"], environment="sandbox"
    )
    connection.set_credentials(values["credentials"])
    connection.save()
    return connection


@pytest.mark.parametrize("vendor", sorted(FIRST_OBJECT))
def test_demo_connection_is_healthy_and_reads(live_server, settings, vendor):
    use_sandboxes(live_server, settings)
    reset_vendor(vendor, "test")
    connector = get_connector(demo_connection(vendor))
    check = connector.test()
    assert check.ok, check.message
    assert connector.query(FIRST_OBJECT[vendor], page_size=10).records


def test_bamboohr_demo_webhook_reaches_the_demo_connection(live_server, settings):
    use_sandboxes(live_server, settings)
    reset_vendor("bamboohr", "test")
    connector = get_connector(demo_connection("bamboohr"))
    connector.update("employees", "102", {"department": "Data & AI"})
    assert wait_for(lambda: Event.objects.filter(source="bamboohr").exists())
    event = Event.objects.get(source="bamboohr")
    assert event.type == "employee.updated" and event.payload["changedFields"] == ["department"]
