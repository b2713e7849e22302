"""Role checks for the UI and the API, in one place.

Every capability is a Django permission `accounts.<codename>`; roles are groups that
hold them (see integrations/accounts/roles.py)."""

from dataclasses import dataclass

from django.contrib.auth.mixins import PermissionRequiredMixin
from rest_framework.permissions import BasePermission

from integrations.accounts.roles import CAPABILITIES, ROLES


def perm(codename: str) -> str:
    return f"accounts.{codename}"


def can(user, codename: str) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(perm(codename)))


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    url_name: str
    capability: str


# The navigation of the base layout, in order.
SECTIONS = (
    Section("flows", "Flows", "flows:list", "view_studio"),
    Section("runs", "Runs", "runs:list", "view_studio"),
    Section("exceptions", "Exceptions", "exceptions:list", "view_studio"),
    Section("approvals", "Approvals", "approvals:inbox", "view_studio"),
    Section("connections", "Connections", "connections:list", "view_studio"),
    Section("gallery", "Gallery", "gallery:list", "view_studio"),
    Section("canonical", "Canonical objects", "canonical:list", "view_studio"),
    Section("crosswalk", "Crosswalk", "crosswalk:index", "view_studio"),
    Section("reconciliation", "Reconciliation", "reconciliation:home", "view_studio"),
    Section("dashboards", "Dashboards", "dashboards:home", "view_studio"),
    Section("audit", "Audit log", "audit:list", "view_audit"),
    Section("users", "Users", "users:list", "manage_users"),
)


def visible_sections(user) -> list[Section]:
    return [s for s in SECTIONS if can(user, s.capability)]


class CapabilityRequiredMixin(PermissionRequiredMixin):
    """UI views: `capability = "edit_flows"`; a signed-in user without it gets 403."""

    capability = "view_studio"
    raise_exception = True

    def get_permission_required(self):
        return (perm(self.capability),)


def capability_required(codename: str):
    """Function-view form of CapabilityRequiredMixin."""
    from django.contrib.auth.decorators import permission_required

    return permission_required(perm(codename), raise_exception=True)


class HasCapability(BasePermission):
    """DRF: a view sets `capability` (reads) and optionally `write_capability` (writes)."""

    def has_permission(self, request, view) -> bool:
        safe = request.method in ("GET", "HEAD", "OPTIONS")
        codename = getattr(view, "capability", "view_studio")
        if not safe:
            codename = getattr(view, "write_capability", codename)
        if can(request.user, codename):
            return True
        self.message = missing_capability(request.user, codename)  # DRF's 403 detail
        return False


def missing_capability(user, codename: str) -> str:
    """What a 403 says: the capability that is missing, which roles have it, and the caller's."""
    holders = CAPABILITIES[codename][1] if codename in CAPABILITIES else ()
    groups = {g.name for g in user.groups.all()} if user and user.is_authenticated else set()
    mine = [role for role in ROLES if role in groups]
    return (
        f"This needs the '{codename}' capability, which the roles {', '.join(holders) or 'none'} have; "
        f"your roles: {', '.join(mine) or 'none'}."
    )
