"""Credentials at rest: MultiFernet over SWITCHBOARD_FERNET_KEYS (newest first), so keys
rotate by prepending a new one and running `manage.py rotate_credentials`."""

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = settings.SWITCHBOARD_FERNET_KEYS
    if not keys:
        raise ImproperlyConfigured("SWITCHBOARD_FERNET_KEYS must be set to store credentials.")
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def encrypt_json(value: dict) -> str:
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ImproperlyConfigured("Stored credentials cannot be decrypted with the configured keys.") from exc


def rotate(token: str) -> str:
    return _fernet().rotate(token.encode()).decode() if token else token
