"""What an admin does to people and tokens, each change and its audit entry in one
transaction, with the admin as actor. Secrets (token keys, set-password links) are returned
to the caller to show once and never reach the audit log."""

from django.db import transaction

from integrations.accounts import tokens, users
from integrations.audit.services import record


@transaction.atomic
def invite(actor, **fields):
    user = users.invite_user(**fields)
    record(
        actor,
        "user.invite",
        user,
        after={"username": user.username, "email": user.email, "roles": users.roles_of(user)},
    )
    return user


@transaction.atomic
def change_roles(actor, user, roles: list[str]) -> bool:
    before, after = users.set_roles(user, roles, actor=actor)
    if before != after:
        record(actor, "user.roles", user, changes={"roles": [", ".join(before), ", ".join(after)]})
    return before != after


@transaction.atomic
def set_active(actor, user, active: bool) -> bool:
    changed = users.set_active(user, active, actor=actor)
    if changed:
        record(actor, "user.reactivate" if active else "user.deactivate", user)
    return changed


@transaction.atomic
def password_link_parts(actor, user) -> tuple[str, str]:
    parts = users.set_password_link_parts(user)
    record(actor, "user.password_link", user, message="One-time set-password link made (not stored).")
    return parts


@transaction.atomic
def issue_token(actor, user) -> str:
    key, replaced = tokens.issue_token(user)
    note = f"API token {tokens.prefix_of(key)}… created"
    record(actor, "token.create", user, message=note + (f"; it replaces {replaced}…" if replaced else "") + ".")
    return key


@transaction.atomic
def revoke_token(actor, user) -> str | None:
    prefix = tokens.revoke_token(user)
    if prefix:
        record(actor, "token.revoke", user, message=f"API token {prefix}… revoked.")
    return prefix
