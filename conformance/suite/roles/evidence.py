"""Reading identity evidence out of logged requests: the access token's claims and the DPoP proof.

The platform verifies token signatures; the suite reads claims to judge what the EPJ asked for
(scopes, audience, purpose of use) and verifies each DPoP proof with the key it carries.
"""
from __future__ import annotations

import base64
import json

from joserfc import jws
from joserfc.jwk import ECKey, RSAKey

from conformance.auth import dpop
from conformance.checks import fail
from conformance.suite.roles.sandbox import LoggedRequest


def _b64json(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def authorization(request: LoggedRequest) -> tuple[str | None, str | None]:
    """(scheme, token) from the Authorization header, or (None, None)."""
    value = request.headers.get("authorization")
    if not value or " " not in value:
        return None, None
    scheme, _, token = value.partition(" ")
    return scheme, token.strip()


def token_claims(token: str | None) -> dict:
    try:
        return _b64json(token.split(".")[1]) if token else {}
    except (ValueError, IndexError):
        return {}


def scopes(claims: dict) -> set[str]:
    value = claims.get("scope", [])
    return set(value.split() if isinstance(value, str) else value)


def proof(request: LoggedRequest) -> tuple[dict, dict] | None:
    """(header, claims) of the request's DPoP proof, its signature checked against its own jwk;
    None when the request has no proof. A proof that does not verify fails the test."""
    value = request.headers.get("dpop")
    if not value:
        return None
    try:
        header = _b64json(value.split(".")[0])
        jwk = header["jwk"]
        key = (RSAKey if jwk.get("kty") == "RSA" else ECKey).import_key(jwk)
        claims = json.loads(jws.deserialize_compact(value, key, algorithms=[header["alg"]]).payload)
    except Exception as error:  # noqa: BLE001 - any defect in the proof is the EPJ's to fix
        fail(f"{request.method} {request.url} carried a DPoP proof that does not verify with the key in "
             f"its header ({error}).",
             "Sign each DPoP proof with the private key whose public JWK is in the proof's header (RFC 9449 §4.2).")
    return header, claims


def thumbprint(jwk: dict) -> str:
    return (RSAKey if jwk.get("kty") == "RSA" else ECKey).import_key(jwk).thumbprint()


def check_dpop_scheme(requests: list[LoggedRequest], what: str, fix: str) -> None:
    """Every request carries `Authorization: DPoP <token>` and a `DPoP` proof header."""
    for request in requests:
        scheme, token = authorization(request)
        if token is None:
            fail(f"{what}: {request.method} {request.url} carried no access token.", fix)
        if not request.headers.get("dpop"):
            fail(f"{what}: {request.method} {request.url} carried no DPoP proof (Authorization scheme "
                 f"{scheme!r}); a stolen token could be replayed.", fix)
        if scheme != "DPoP":
            fail(f"{what}: {request.method} {request.url} sent its DPoP-bound token under the {scheme!r} "
                 f"scheme (Bearer), not DPoP.", fix)


def check_proofs(requests: list[LoggedRequest], what: str, fix: str) -> None:
    """Each present proof is single-use and bound to its request, its token and its key."""
    seen: dict[str, LoggedRequest] = {}
    for request in requests:
        parsed = proof(request)
        if parsed is None:
            continue
        header, claims = parsed
        jti = claims.get("jti")
        if jti in seen:
            fail(f"{what}: the DPoP proof with jti {jti} was reused: sent with {seen[jti].method} "
                 f"{seen[jti].url} and again with {request.method} {request.url}.", fix)
        seen[jti] = request
        if claims.get("htm") != request.method:
            fail(f"{what}: a proof says htm {claims.get('htm')!r} for a {request.method} request.", fix)
        if dpop.htu(str(claims.get("htu", ""))) != dpop.htu(request.url):
            fail(f"{what}: a proof says htu {claims.get('htu')!r} for {dpop.htu(request.url)}.", fix)
        _, token = authorization(request)
        if token and claims.get("ath") != dpop.ath(token):
            fail(f"{what}: the proof for {request.method} {request.url} is not bound to the token sent "
                 f"with it (ath).", fix)
        jkt = token_claims(token).get("cnf", {}).get("jkt")
        if jkt and jkt != thumbprint(header["jwk"]):
            fail(f"{what}: the proof is signed with another key than the token is bound to (cnf.jkt).", fix)
