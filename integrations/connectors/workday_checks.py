"""What a Workday connection test checks, each said so an admin knows what to fix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrations.connectors.base import NamedCheck
from integrations.connectors.errors import ConnectorError

if TYPE_CHECKING:
    from integrations.connectors.workday import WorkdayConnector

SKIPPED = "Not checked: authentication failed."


def _call(conn: WorkdayConnector, name: str, path: str, ok: str, fix: str, **params: object) -> NamedCheck:
    try:
        conn.request("GET", path, params=params or None)
    except ConnectorError as exc:
        return NamedCheck(name, False, f"{exc.message} {fix}")
    return NamedCheck(name, True, ok)


def workday_checks(conn: WorkdayConnector) -> list[NamedCheck]:
    report = bool(conn.config.get("report_owner") and conn.config.get("report_name"))
    if conn.config.get("auth_mode") == "basic":
        checks = [
            NamedCheck(
                "Authentication",
                True,
                "Basic (integration system user): Workday takes it on reports only, so workers and time "
                "blocks need OAuth.",
            )
        ]
        if not report:
            return [*checks, NamedCheck("Report", False, "Basic authentication needs a RaaS report owner and name.")]
        checks.append(
            _call(conn, "Report", conn.test_path, "The RaaS worker report answers.",
                  "Check the ISU user name and password, and that the report is shared with the ISU.", format="json")
        )  # fmt: skip
        return checks
    try:
        conn.authenticate(refresh=True)
    except ConnectorError as exc:
        token = NamedCheck(
            "Token",
            False,
            f"No access token ({exc.message}). Check the API client's ID and secret and the refresh token "
            "(re-issue it for the integration system user if it was revoked).",
        )
        return [token, NamedCheck("Permissions", False, SKIPPED)]
    checks = [
        NamedCheck("Token", True, "OAuth 2.0 refresh-token grant: access token issued."),
        _call(conn, "Permissions: workers", f"ccx/api/v1/{conn.tenant}/workers", "Workers are readable.",
              "Give the API client the Staffing scope and the ISU's security group Get access to workers.", limit=1),
        _call(conn, "Permissions: time tracking", f"ccx/api/timeTracking/v5/{conn.tenant}/workerTimeBlocks",
              "Worker time blocks are readable.", "Give the API client the Time Tracking scope.", limit=1),
    ]  # fmt: skip
    if report:
        checks.append(
            _call(conn, "Report", conn._report_path(), "The RaaS worker report answers.",
                  "Check the report owner and name, and that the report is shared with the ISU.", format="json")
        )  # fmt: skip
    checks.append(NamedCheck("API version", True, "REST common API v1, Time Tracking v5, RaaS JSON."))
    return checks
