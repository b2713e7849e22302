"""Salesforce OAuth 2.0: which grant may go to which host, and the JWT bearer assertion.

- Client credentials work only on the org's My Domain host, never on the generic login
  hosts login.salesforce.com / test.salesforce.com
  (https://help.salesforce.com/s/articleView?id=000886201&language=en_US&type=1).
- JWT bearer flow: an RS256-signed assertion with iss = the connected app's consumer key,
  sub = the username, aud = the authorization server (https://login.salesforce.com,
  https://test.salesforce.com or an Experience Cloud site), exp at most 3 minutes ahead,
  posted as grant_type urn:ietf:params:oauth:grant-type:jwt-bearer
  (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm&type=5).
- The username-password flow is being retired by Salesforce and is kept only so existing
  connections keep working (same help article 000886201).
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from integrations.connectors.errors import ConnectorError

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GRANTS = ("client_credentials", "jwt_bearer", "refresh_token", "password")
DEPRECATED_GRANTS = {"password": "Salesforce is retiring the username-password flow: switch to client credentials "
                                 "(My Domain host) or the JWT bearer flow."}  # fmt: skip
# The generic login hosts: no client credentials there.
GENERIC_LOGIN_HOSTS = ("login.salesforce.com", "test.salesforce.com")
DEFAULT_AUDIENCE = "https://login.salesforce.com"
ASSERTION_SECONDS = 170  # Salesforce accepts an exp at most 3 minutes ahead


def generic_login_host(url: str) -> bool:
    """True for login.salesforce.com-style hosts (and the sandbox's imitation of one, /login)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return host in GENERIC_LOGIN_HOSTS or parts.path.rstrip("/").endswith("/login/services/oauth2/token")


def client_credentials_problem(token_url: str) -> str | None:
    if generic_login_host(token_url):
        return (
            "Client credentials work only on your org's My Domain host (https://<MyDomain>.my.salesforce.com), "
            "not on login.salesforce.com or test.salesforce.com: set the base URL to the My Domain URL."
        )
    return None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_assertion(private_key_pem: str, *, client_id: str, username: str, audience: str,
                  now: float | None = None) -> str:  # fmt: skip
    """The signed assertion (header.claims.signature, RS256)."""
    if not (private_key_pem and client_id and username):
        raise ConnectorError("The JWT bearer flow needs the consumer key, a username and the private key.",
                             kind="permanent")  # fmt: skip
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConnectorError("The private key is not an unencrypted PEM RSA key.", kind="permanent") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConnectorError("The private key must be an RSA key (RS256).", kind="permanent")
    issued = int(now if now is not None else time.time())
    header = {"alg": "RS256", "typ": "JWT"}
    claims = {"iss": client_id, "sub": username, "aud": audience or DEFAULT_AUDIENCE, "exp": issued + ASSERTION_SECONDS}
    signing_input = ".".join(_b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"
