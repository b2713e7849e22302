"""Secrets at rest: MultiFernet over SWITCHBOARD_FERNET_KEYS (newest first).

A kernel module (it imports no app) because two layers keep secrets with it: connections
encrypt their stored credentials, connectors encrypt the access tokens they cache. New
keys go first; older keys stay in the list while anything encrypted with them remains
(every value is encrypted with the newest key; any key in the list decrypts)."""

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = settings.SWITCHBOARD_FERNET_KEYS
    if not keys:
        raise ImproperlyConfigured("SWITCHBOARD_FERNET_KEYS must be set to store credentials.")
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def encrypt_json(value: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        value: dict[str, Any] = json.loads(_fernet().decrypt(token.encode()))
        return value
    except InvalidToken as exc:
        raise ImproperlyConfigured("Stored credentials cannot be decrypted with the configured keys.") from exc
