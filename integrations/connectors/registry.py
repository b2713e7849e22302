"""Connector kinds: kind -> (label, dotted path of the Connector class), imported lazily.

Connection types, connection forms and the step editor's object/action lists all come
from here. Adding a vendor is one line below plus its module:

    "salesforce": ("Salesforce", "integrations.connectors.salesforce.SalesforceConnector"),

The class subclasses `integrations.connectors.base.Connector` and sets `kind` to the key.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from integrations.connectors.base import Connector
    from integrations.connectors.connection_settings import ConnectionSettings

CONNECTORS: dict[str, tuple[str, str]] = {
    "generic_rest": ("Generic REST API", "integrations.connectors.generic_rest.GenericRestConnector"),
    "generic_webhook": ("Generic inbound webhook", "integrations.connectors.webhooks.GenericWebhookConnector"),
    "dynamics": ("Dynamics 365 / Dataverse", "integrations.connectors.dynamics.DynamicsConnector"),
    "netsuite": ("NetSuite", "integrations.connectors.netsuite.NetSuiteConnector"),
    "bamboohr": ("BambooHR", "integrations.connectors.bamboohr.BambooHRConnector"),
    "workday": ("Workday", "integrations.connectors.workday.WorkdayConnector"),
    "salesforce": ("Salesforce", "integrations.connectors.salesforce.SalesforceConnector"),
    "hubspot": ("HubSpot", "integrations.connectors.hubspot.HubSpotConnector"),
    "kantata": ("Kantata OX", "integrations.connectors.kantata.KantataConnector"),
}


class UnknownConnector(LookupError):
    pass


@cache
def connector_class(kind: str) -> type[Connector]:
    try:
        _label, path = CONNECTORS[kind]
    except KeyError:
        raise UnknownConnector(f"No connector of kind {kind!r}.") from None
    connector: type[Connector] = import_string(path)
    return connector


def kinds() -> list[tuple[str, str]]:
    """(kind, label) pairs, sorted by label, for choices."""
    return sorted(((k, label) for k, (label, _path) in CONNECTORS.items()), key=lambda kv: kv[1].lower())


def label_for(kind: str) -> str:
    return CONNECTORS.get(kind, (kind, ""))[0]


def get_connector(connection: ConnectionSettings, **kwargs: Any) -> Connector:
    """The connector for a Connection row; kwargs go to the constructor (http, on_attempt)."""
    return connector_class(connection.kind)(connection, **kwargs)
