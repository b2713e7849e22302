"""Roles and what each may do. One table, read by the role data migration, the UI and
the API permission checks, so the matrix is written once."""

VIEWER, ANALYST, APPROVER, OPERATOR, ADMIN = "Viewer", "Analyst", "Approver", "Operator", "Admin"
ROLES = (VIEWER, ANALYST, APPROVER, OPERATOR, ADMIN)

# capability codename -> (description, roles that have it)
CAPABILITIES = {
    "view_studio": ("Can view flows, runs, exceptions, connections and dashboards", ROLES),
    "edit_flows": ("Can edit flow drafts and test-run them", (ANALYST, ADMIN)),
    "publish_flows": ("Can publish flow versions", (ANALYST, ADMIN)),
    "manage_connections": ("Can create, edit and test connections", (ANALYST, ADMIN)),
    "decide_approvals": ("Can approve or reject waiting runs", (APPROVER, ADMIN)),
    "work_exceptions": ("Can retry, edit, skip, resolve and assign exceptions", (OPERATOR, ADMIN)),
    "replay_events": ("Can replay events and pause connections", (OPERATOR, ADMIN)),
    "view_audit": ("Can read the audit log", (ADMIN,)),
    "manage_users": ("Can manage users and roles", (ADMIN,)),
}


def capabilities_of(role: str) -> list[str]:
    return [code for code, (_, roles) in CAPABILITIES.items() if role in roles]
