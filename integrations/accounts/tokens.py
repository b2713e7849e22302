"""API tokens: issue (the key is returned once, to be shown once), revoke, describe, and note
when one was used. A user has at most one token (DRF's authtoken model): issuing a new one
replaces the old one. Pages and logs only ever see the prefix."""

import time
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from integrations.accounts.models import TokenUse

PREFIX_LENGTH = 8  # enough to tell tokens apart, far too little to guess the rest of a 40-hex key
USE_RESOLUTION_SECONDS = 60  # "last used" is written at most once a minute per token and process
MAX_NOTED = 10_000  # a flood of distinct tokens must not grow the memo without bound

_noted: dict[str, float] = {}


@dataclass(frozen=True)
class TokenInfo:
    prefix: str
    created: datetime
    last_used_at: datetime | None


def prefix_of(key: str) -> str:
    return key[:PREFIX_LENGTH]


def token_of(user) -> TokenInfo | None:
    token = Token.objects.filter(user=user).select_related("use").first()
    if token is None:
        return None
    use = getattr(token, "use", None)  # the reverse one-to-one raises AttributeError when absent
    return TokenInfo(prefix_of(token.key), token.created, use.last_used_at if use else None)


@transaction.atomic
def issue_token(user) -> tuple[str, str | None]:
    """A new token for `user`, replacing any existing one. Returns (key, prefix of the replaced
    token or None); the caller shows the key once and keeps it nowhere."""
    old = Token.objects.filter(user=user).first()
    replaced = prefix_of(old.key) if old else None
    if old:
        old.delete()  # one token per user (the model's one-to-one)
    return Token.objects.create(user=user).key, replaced


def revoke_token(user) -> str | None:
    """Delete the user's token; the prefix of the revoked token, or None when there was none."""
    token = Token.objects.filter(user=user).first()
    if token is None:
        return None
    prefix = prefix_of(token.key)  # the key is gone from the instance once deleted
    token.delete()
    return prefix


def note_use(key: str) -> None:
    """Record that the token `key` authenticated a request, at most once per resolution window."""
    now = time.monotonic()
    if now - _noted.get(key, -USE_RESOLUTION_SECONDS) < USE_RESOLUTION_SECONDS:
        return
    if len(_noted) >= MAX_NOTED:
        _noted.clear()
    _noted[key] = now
    at = timezone.now()
    if TokenUse.objects.filter(token_id=key).update(last_used_at=at):
        return
    try:
        with transaction.atomic():
            TokenUse.objects.create(token_id=key, last_used_at=at)
    except IntegrityError:  # revoked meanwhile, or another process wrote it first
        pass


def forget_uses() -> None:
    """Tests: let the next use of every token be written."""
    _noted.clear()
