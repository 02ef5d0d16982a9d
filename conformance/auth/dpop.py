"""DPoP (RFC 9449) and private_key_jwt (RFC 7523) building blocks, as HelseID uses them.

Shared by the client (`HelseIdAuth`) and the platform's verifier, so both sides compute the
htu, ath and key thumbprint the same way. Allowed algorithms follow HelseID: RS/PS/ES 256–512.
"""
from __future__ import annotations

import base64
import hashlib
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

Key = ECKey | RSAKey

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 10   # seconds; HelseID.Library signs assertions with exp = iat + 10 s


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def ath(access_token: str) -> str:
    """The `ath` claim: base64url(SHA-256(token)) — binds a proof to one access token."""
    return b64url(hashlib.sha256(access_token.encode("ascii")).digest())


def htu(url: str) -> str:
    """The `htu` claim: the request URL without query and fragment (RFC 9449 §4.3).

    Scheme and host are compared case-insensitively, and a default port is dropped."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def generate_key(kind: str = "EC") -> Key:
    """A fresh key pair for a client or a DPoP proof (EC P-256 by default: small and fast)."""
    return RSAKey.generate_key(2048) if kind == "RSA" else ECKey.generate_key("P-256")


def alg_for(key: Key) -> str:
    return "PS256" if isinstance(key, RSAKey) else {"P-256": "ES256", "P-384": "ES384",
                                                     "P-521": "ES512"}[key.as_dict()["crv"]]


def public_jwk(key: Key) -> dict:
    return key.as_dict(private=False)


def thumbprint(key: Key) -> str:
    """The RFC 7638 SHA-256 thumbprint: the token's `cnf.jkt` and the registered key id."""
    return key.thumbprint()


def proof(key: Key, method: str, url: str, *, access_token: str | None = None,
          nonce: str | None = None) -> str:
    """A DPoP proof for one request: fresh jti and iat, the public key in the header."""
    claims: dict = {"jti": str(uuid.uuid4()), "htm": method.upper(), "htu": htu(url), "iat": int(time.time())}
    if access_token is not None:
        claims["ath"] = ath(access_token)
    if nonce is not None:
        claims["nonce"] = nonce
    header = {"typ": "dpop+jwt", "alg": alg_for(key), "jwk": public_jwk(key)}
    return jwt.encode(header, claims, key, algorithms=[header["alg"]])


def client_assertion(key: Key, client_id: str, audience: str, *, extra: dict | None = None) -> str:
    """The private_key_jwt client assertion: iss = sub = client_id, aud = issuer, short exp."""
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "nbf": now,
              "exp": now + ASSERTION_LIFETIME, "jti": str(uuid.uuid4()), **(extra or {})}
    header = {"typ": "client-authentication+jwt", "alg": alg_for(key), "kid": thumbprint(key)}
    return jwt.encode(header, claims, key, algorithms=[header["alg"]])
