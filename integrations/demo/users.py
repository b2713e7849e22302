"""Demo users, one per role, named after it (admin, analyst, approver, operator, viewer),
all with the password in settings.SWITCHBOARD_DEMO_PASSWORD.

`admin` is a plain user in the Admin group, not Django staff or superuser: every admin
task is done in the studio's own pages, which check roles and write the audit log; Django's
admin site is not mounted, because it would change configuration without either."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from integrations.accounts.roles import ROLES
from integrations.audit import services as audit

DEMO_USERS = {role.lower(): role for role in ROLES}
ACTOR = "system:seed_demo"


@transaction.atomic
def seed(stdout) -> None:
    password = settings.SWITCHBOARD_DEMO_PASSWORD
    for username, role in DEMO_USERS.items():
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@demo.switchboard.local", "first_name": role}
        )
        changed = []
        if created or not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
            changed.append("password")
        group = Group.objects.get(name=role)
        if not user.groups.filter(pk=group.pk).exists():
            user.groups.add(group)
            changed.append("role")
        if created:
            audit.record(ACTOR, "user.create", user, after={"username": username, "role": role})
        elif changed:
            audit.record(ACTOR, "user.reset_demo", user, changes={name: ["", "reset"] for name in changed})
        outcome = "created" if created else ("reset " + ", ".join(changed) if changed else "unchanged")
        stdout.write(f"  demo user {username} ({role}): {outcome}")
