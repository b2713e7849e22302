"""What a BambooHR connection test checks, each said so an admin knows what to fix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrations.connectors.base import NamedCheck
from integrations.connectors.errors import ConnectorError
from integrations.connectors.payloads import json_object

if TYPE_CHECKING:
    from integrations.connectors.bamboohr import BambooHRConnector

SKIPPED = "Not checked: the API key was refused."


def bamboohr_checks(conn: BambooHRConnector) -> list[NamedCheck]:
    try:
        me = json_object(conn.request("GET", conn.test_path, params={"fields": "firstName,lastName"}))
    except ConnectorError as exc:
        return [
            NamedCheck(
                "API key",
                False,
                f"The API key was refused ({exc.message}). Create a key under your BambooHR user's "
                "API Keys and check the company domain.",
            ),
            NamedCheck("Permissions", False, SKIPPED),
        ]
    owner = " ".join(str(me.get(k) or "") for k in ("firstName", "lastName")).strip() or "an employee"
    checks = [NamedCheck("API key", True, f"Accepted; it acts as {owner}, with that user's access level.")]
    try:
        conn.request("GET", "api/v1/employees", params={"page[limit]": 1})
        checks.append(NamedCheck("Permissions", True, "The key's user can list employees."))
    except ConnectorError as exc:
        checks.append(
            NamedCheck(
                "Permissions",
                False,
                f"Listing employees failed ({exc.message}). Give the key's user an access level that sees "
                "all employees.",
            )
        )
    checks.append(NamedCheck("API version", True, "API v1 (employees) and datasets v2 (look-ups)."))
    return checks
