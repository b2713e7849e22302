"""The sandbox integration's certificate key pair (for the OAuth 2.0 M2M JWT assertion).

RSA keys cannot be derived from a secret by the `cryptography` API, so the primes come
from a PRNG seeded by SECRET_KEY: every process (web, workers, seed_demo) gets the same
pair, nothing is stored, and a re-seed of the sandbox does not invalidate the demo
connection. Sandbox-only: never a way to make real keys.
"""

from __future__ import annotations

import functools
import random

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from integrations.sandboxes.credentials import sandbox_secret
from integrations.sandboxes.netsuite import VENDOR

CERTIFICATE_ID = "sb-netsuite-m2m-cert"
_SMALL_PRIMES = (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47)


def _probable_prime(n: int, rng: random.Random) -> bool:
    if any(n % p == 0 for p in _SMALL_PRIMES):
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(24):  # Miller-Rabin rounds
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(rng: random.Random, bits: int) -> int:
    while True:
        candidate = rng.getrandbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if candidate % 65537 != 1 and _probable_prime(candidate, rng):
            return candidate


@functools.cache
def _key(seed: str) -> rsa.RSAPrivateKey:
    rng = random.Random(seed)
    e = 65537
    p = _prime(rng, 1024)
    q = _prime(rng, 1024)
    while q == p:
        q = _prime(rng, 1024)
    d = pow(e, -1, (p - 1) * (q - 1))
    public = rsa.RSAPublicNumbers(e, p * q)
    numbers = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), public)
    return numbers.private_key()


def private_key() -> rsa.RSAPrivateKey:
    return _key(sandbox_secret(VENDOR, "certificate-key", 64))


def private_key_pem() -> str:
    return (
        private_key()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
