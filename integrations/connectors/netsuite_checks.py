"""What a NetSuite connection test checks, each said so an admin knows what to fix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrations.connectors.base import NamedCheck
from integrations.connectors.errors import ConnectorError
from integrations.connectors.payloads import json_object

if TYPE_CHECKING:
    from integrations.connectors.netsuite import NetSuiteConnector

SKIPPED = "Not checked: authentication failed."


def _auth(conn: NetSuiteConnector) -> NamedCheck:
    if conn.tba:
        try:
            conn.request("GET", conn.test_path)
        except ConnectorError as exc:
            return NamedCheck(
                "Token",
                False,
                f"Token-based authentication was refused ({exc.message}). Check the consumer key and secret, "
                "the token ID and secret, and that the account ID is right (it is the signature's realm).",
            )
        return NamedCheck("Token", True, "Token-based authentication (HMAC-SHA256) accepted.")
    try:
        conn.authenticate(refresh=True)
    except ConnectorError as exc:
        return NamedCheck(
            "Token",
            False,
            f"No access token ({exc.message}). Check the client ID, the certificate ID, the private key, and "
            "that the integration record grants the REST Web Services scope.",
        )
    scope = conn.config.get("scope") or "rest_webservices"
    return NamedCheck("Token", True, f"OAuth 2.0 client credentials: access token issued (scope {scope}).")


def _records(conn: NetSuiteConnector) -> NamedCheck:
    try:
        catalog = json_object(conn.request("GET", conn.test_path))
    except ConnectorError as exc:
        return NamedCheck("Permissions", False, f"The record catalog could not be read: {exc.message}")
    seen = {str(item.get("name", "")).lower() for item in catalog.get("items", []) if isinstance(item, dict)}
    wanted = {name: conn.rest_name(name).lower() for name in conn.objects}
    missing = sorted(name for name, rest in wanted.items() if rest not in seen)
    if missing:
        return NamedCheck(
            "Permissions",
            False,
            f"The integration role cannot see these records: {', '.join(missing)}. "
            "Give the role View (and Create/Edit for writes) on them.",
        )
    return NamedCheck("Permissions", True, f"The role sees every record type used: {', '.join(sorted(wanted))}.")


def _suiteql(conn: NetSuiteConnector) -> NamedCheck:
    try:
        conn.suiteql("SELECT id FROM customer", limit=1, offset=0)
    except ConnectorError as exc:
        return NamedCheck(
            "SuiteQL",
            False,
            f"SuiteQL was refused ({exc.message}); polls use it. Give the role SuiteAnalytics Workbook "
            "and REST Web Services permissions.",
        )
    return NamedCheck("SuiteQL", True, "SuiteQL answers (used for polling, dates read as TO_CHAR copies).")


def netsuite_checks(conn: NetSuiteConnector) -> list[NamedCheck]:
    token = _auth(conn)
    if not token.ok:
        return [token, NamedCheck("Permissions", False, SKIPPED), NamedCheck("SuiteQL", False, SKIPPED)]
    records = _records(conn)
    version = NamedCheck("API version", records.ok, "REST record service v1 and query service v1.")
    return [token, records, _suiteql(conn), version]
