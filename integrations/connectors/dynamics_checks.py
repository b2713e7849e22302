"""What a Dataverse connection test checks, each said so an admin knows what to fix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrations.connectors.base import NamedCheck
from integrations.connectors.errors import ConnectorError
from integrations.connectors.payloads import json_object

if TYPE_CHECKING:
    from integrations.connectors.dynamics import DynamicsConnector

SKIPPED = "Not checked: authentication failed."


def _alternate_keys(conn: DynamicsConnector) -> list[NamedCheck]:
    checks = []
    for name, spec in conn.objects.items():
        for field in spec.external_id_fields:
            try:
                present = field in conn.alternate_keys(name)
            except ConnectorError as exc:
                checks.append(NamedCheck(f"Alternate key {name}.{field}", False, f"Could not read: {exc.message}"))
                continue
            if present:
                checks.append(NamedCheck(f"Alternate key {name}.{field}", True, "Defined: upserts are one request."))
            else:
                checks.append(
                    NamedCheck(
                        f"Alternate key {name}.{field}",
                        False,
                        f"No alternate key on {field}: upserts look the record up first (slower, and two "
                        f"writers could both create). Define a key on {field} for this table in Power Apps "
                        "(Tables > Keys) to make them atomic.",
                    )
                )
    return checks


def dynamics_checks(conn: DynamicsConnector) -> list[NamedCheck]:
    try:
        conn.authenticate(refresh=True)
    except ConnectorError as exc:
        return [
            NamedCheck(
                "Token",
                False,
                f"No access token ({exc.message}). Check the tenant ID, the application (client) ID and "
                "secret, and that the secret has not expired.",
            ),
            NamedCheck("API access", False, SKIPPED),
        ]
    checks = [NamedCheck("Token", True, "Entra ID client credentials: access token issued.")]
    try:
        who = json_object(conn.request("GET", conn.test_path))
    except ConnectorError as exc:
        checks.append(
            NamedCheck(
                "API access",
                False,
                f"WhoAmI failed ({exc.message}). Add the application user to the environment and give it a "
                "security role.",
            )
        )
        return checks
    checks.append(NamedCheck("API access", True, f"WhoAmI answers (user {who.get('UserId', '?')})."))
    checks.append(NamedCheck("API version", True, f"Web API {conn.config.get('api_version') or 'v9.2'}."))
    return checks + _alternate_keys(conn)
