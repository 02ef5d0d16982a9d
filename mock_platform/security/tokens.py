"""Access token checks at the resource server: signature by the mock HelseID, iss, aud, time
window, and the DPoP binding. Each failure is a TokenError saying what and how to fix it."""
from __future__ import annotations

import time
from dataclasses import dataclass

from joserfc import jws, jwt
from joserfc.errors import JoseError

from mock_platform.helseid import keys as helseid_keys
from mock_platform.security.proofs import CLOCK_LEEWAY, shown


@dataclass
class TokenError(Exception):
    description: str
    fix: str

    def __str__(self) -> str:
        return self.description


def verify_access_token(token: str, storage, *, issuer: str, audience: str) -> dict:
    """The token's claims, after every check passed."""
    try:
        header = jws.extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError):
        raise TokenError("The access token is not a signed JWT.",
                         "Send the access_token from the HelseID token response unchanged.")
    if header.get("alg") != helseid_keys.ALG:
        # alg "none" and HMAC algorithms are refused here, before any key is chosen.
        raise TokenError(f"The access token's alg {shown(header.get('alg'))} is not accepted.",
                         f"Use tokens issued by HelseID ({helseid_keys.ALG}); never accept alg none.")
    if header.get("typ") not in ("at+jwt", "JWT"):
        raise TokenError(f"The token's typ {shown(header.get('typ'))} is not an access token.",
                         "Send an access token (typ at+jwt), not an ID token or assertion.")
    try:
        claims = jwt.decode(token, helseid_keys.verification_keys(storage), algorithms=[helseid_keys.ALG]).claims
    except (JoseError, ValueError):
        raise TokenError("The access token's signature does not verify against HelseID's keys.",
                         f"Get a new token from {issuer}; keys are published at {issuer}/jwks.")
    _check_claims(claims, issuer, audience)
    return claims


def _check_claims(claims: dict, issuer: str, audience: str) -> None:
    if claims.get("iss") != issuer:
        raise TokenError(f"The token's issuer {shown(claims.get('iss'))} is not {issuer}.",
                         f"Get tokens from the sandbox HelseID at {issuer}.")
    aud = claims.get("aud")
    if audience not in (aud if isinstance(aud, list) else [aud]):
        raise TokenError(f"The token's audience {shown(aud)} does not include {audience}.",
                         f"Request a scope of this API ({audience}/...) so the token is issued for it.")
    now = time.time()
    exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
    if not isinstance(exp, (int, float)) or exp < now - CLOCK_LEEWAY:
        raise TokenError("The access token has expired.",
                         "Get a new token before the old one expires (see expires_in); never reuse an expired one.")
    for name, value in (("nbf", nbf), ("iat", iat)):
        if value is not None and (not isinstance(value, (int, float)) or value > now + CLOCK_LEEWAY):
            raise TokenError(f"The access token is not valid yet ({name} is in the future).",
                             "Use the token only from its nbf time; check the client's clock.")
    if not isinstance(claims.get("cnf"), dict) or not claims["cnf"].get("jkt"):
        raise TokenError("The access token is not bound to a DPoP key (no cnf.jkt).",
                         "Request the token with a DPoP header so HelseID binds it to your key.")
