"""People: invite, roles, activation, one-time set-password links. No audit here (the audit
app is a sibling): the studio's users page records each action with its actor."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from integrations.accounts.roles import ADMIN, ROLES

User = get_user_model()


def roles_of(user) -> list[str]:
    names = {g.name for g in user.groups.all()}
    return [role for role in ROLES if role in names]


@transaction.atomic
def invite_user(*, username: str, email: str, roles: list[str], first_name: str = "", last_name: str = ""):
    """A new active user with the given roles and no usable password: they choose one through
    the link of `set_password_link_parts`."""
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "A user with this username already exists."})
    if email and User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "A user with this email already exists."})
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    user.set_unusable_password()
    user.save()
    user.groups.set(Group.objects.filter(name__in=roles))
    return user


@transaction.atomic
def set_roles(user, roles: list[str], *, actor) -> tuple[list[str], list[str]]:
    """Replace the user's role groups; (before, after). Groups that are not roles are kept."""
    before = roles_of(user)
    if user.pk == actor.pk and ADMIN in before and ADMIN not in roles:
        raise ValidationError({"roles": "You cannot take the Admin role from yourself; ask another admin."})
    if ADMIN in before and ADMIN not in roles:
        _keep_an_admin(user)
    user.groups.remove(*user.groups.filter(name__in=ROLES))
    user.groups.add(*Group.objects.filter(name__in=roles))
    return before, roles_of(user)


@transaction.atomic
def set_active(user, active: bool, *, actor) -> bool:
    """Activate or deactivate; True when something changed. A deactivated user cannot sign
    in and their API token stops working (both check is_active)."""
    if user.is_active == active:
        return False
    if not active and user.pk == actor.pk:
        raise ValidationError({"is_active": "You cannot deactivate yourself."})
    if not active and ADMIN in roles_of(user):
        _keep_an_admin(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    return True


def _keep_an_admin(leaving) -> None:
    others = User.objects.filter(is_active=True, groups__name=ADMIN).exclude(pk=leaving.pk)
    if not others.exists():
        raise ValidationError({"roles": "This is the last active admin; make someone else Admin first."})


def set_password_link_parts(user) -> tuple[str, str]:
    """(uidb64, token) for Django's password-reset confirm view. The token is one-time: it stops
    working once the password is set (it hashes the current password) or after
    PASSWORD_RESET_TIMEOUT."""
    return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)
