"""Role groups follow the matrix in integrations/accounts/roles.py."""

from django.contrib.auth.models import Group

from integrations.accounts.roles import CAPABILITIES, ROLES
from integrations.accounts.services import sync_roles


def perms(role):
    return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))


def test_every_role_holds_exactly_its_capabilities(db):
    for role in ROLES:
        assert perms(role) == {code for code, (_, roles) in CAPABILITIES.items() if role in roles}
    assert perms("Viewer") == {"view_studio"}
    assert "view_audit" in perms("Admin") and "view_audit" not in perms("Operator")


def test_sync_roles_restores_missing_and_edited_groups(db):
    Group.objects.get(name="Viewer").delete()
    Group.objects.get(name="Analyst").permissions.clear()
    sync_roles()
    assert perms("Viewer") == {"view_studio"}
    assert "publish_flows" in perms("Analyst")
