"""Is this API token allowed this capability? Answered from a short per-process cache.

DRF's TokenAuthentication plus the role check cost three queries per request; on the
synchronous invoke path that is most of the work. The answer is kept CACHE_SECONDS, the same
window the invoke path already uses for a flow's live version, so deleting a token, disabling
its user or removing the role takes effect on every web process within that time."""

import time

from integrations.accounts.tokens import note_use
from integrations.runs.invoke import CACHE_SECONDS
from studio.permissions import can

_grants: dict[tuple[str, str], tuple[float, bool]] = {}
MAX_ENTRIES = 10_000  # a flood of made-up tokens must not grow the cache without bound


def token_allows(key: str, capability: str) -> bool:
    """True when `key` is the token of an active user holding `capability`."""
    now = time.monotonic()
    hit = _grants.get((key, capability))
    if hit is not None and hit[0] > now:
        return hit[1]
    allowed = _lookup(key, capability)
    if len(_grants) >= MAX_ENTRIES:
        _grants.clear()
    _grants[(key, capability)] = (now + CACHE_SECONDS, allowed)
    return allowed


def _lookup(key: str, capability: str) -> bool:
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is not None:
        note_use(token.key)  # "last used" on the users page; written at most once a minute
    return bool(token and token.user.is_active and can(token.user, capability))


def forget() -> None:
    _grants.clear()


def _connect_invalidation() -> None:
    """Changes made in this process take effect at once, not after CACHE_SECONDS: deleting a
    token, saving a user (deactivation) or changing their groups clears the cache."""
    from django.contrib.auth import get_user_model
    from django.db.models.signals import m2m_changed, post_delete, post_save
    from rest_framework.authtoken.models import Token

    user = get_user_model()

    def clear(**_kwargs) -> None:
        forget()

    post_delete.connect(clear, sender=Token, weak=False, dispatch_uid="token_grants.token")
    post_save.connect(clear, sender=user, weak=False, dispatch_uid="token_grants.user")
    m2m_changed.connect(clear, sender=user.groups.through, weak=False, dispatch_uid="token_grants.groups")


_connect_invalidation()
