"""Keep the role groups equal to the matrix in roles.py."""

from django.contrib.auth.models import Group, Permission

from integrations.accounts.roles import ROLES, capabilities_of


def sync_roles() -> None:
    """Create missing role groups and give each exactly its capabilities. Runs after every
    migrate (and after a test database flush, which empties groups but not the matrix), so a
    capability added to roles.py reaches the groups without a new data migration."""
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = set(Permission.objects.filter(content_type__app_label="accounts", codename__in=capabilities_of(role)))
        if set(group.permissions.all()) != wanted:
            group.permissions.set(wanted)
