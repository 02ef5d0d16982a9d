"""The broken-token service, modelled on NHN's Test-Token-Tjeneste (TTT).

It issues tokens that look right but are wrong in exactly one way, so a vendor can check that
its own FHIR API refuses each of them (and "valid" for the baseline). Where the token is
DPoP-bound and the caller gives htm and htu, a matching proof comes with it, made with a
throwaway key; give `jkt` instead to bind the token to your own DPoP key.
"""
from __future__ import annotations

import base64
import json
import time

from joserfc import jwt
from joserfc.jwk import RSAKey

from conformance.auth import dpop
from conformance.auth.testtokens import KINDS
from mock_platform.helseid import issuing, keys

REAL_HELSEID_ISSUER = "https://helseid-sts.test.nhn.no"   # a real issuer: must never be accepted here
OTHER_AUDIENCE = "nhn:annet-api"
OTHER_ORGANISATION = "399999995"    # synthetic (first digit 3, mod-11), registered for no tenant


def create(storage, body: dict, *, issuer: str, audience: str, default_scopes: list[str], client=None) -> dict:
    kind = body.get("kind", "valid")
    organisation = body.get("organisation") or {}
    proof_key = None if body.get("jkt") else dpop.generate_key()
    jkt = body.get("jkt") or dpop.thumbprint(proof_key)
    claims = issuing.access_token_claims(
        issuer=issuer, audience=audience,
        client_id=client.client_id if client else "sandkasse-test-token-service",
        client_name=client.client_name if client else "sandkasse test token service",
        scopes=body.get("scopes") or (client.scopes if client else default_scopes),
        parent=organisation.get("parent") or (client.organisations[0] if client else OTHER_ORGANISATION),
        child=organisation.get("child"),
        tenancy=client.tenancy if client else "single", jkt=jkt,
        authorization_details=_purpose(body.get("purpose_of_use", "TREAT")), user=body.get("user"))
    token = _break(storage, kind, claims)
    result = {"kind": kind, "access_token": token, "token_type": "DPoP" if "cnf" in claims else "Bearer",
              "jkt": jkt if "cnf" in claims else None}
    if proof_key is not None and body.get("htu") and body.get("htm"):
        result["dpop_proof"] = dpop.proof(proof_key, body["htm"], body["htu"], access_token=token)
    return result


def _purpose(code: str | None) -> list[dict] | None:
    if not code:
        return None
    return [{"type": issuing.TILLITSRAMMEVERK,
             "care_relationship": {"purpose_of_use": {"code": code, "system": "urn:oid:2.16.840.1.113883.1.11.20448"}}}]


def _break(storage, kind: str, claims: dict) -> str:
    now = int(time.time())
    if kind == "wrong-issuer":
        claims["iss"] = REAL_HELSEID_ISSUER
    elif kind == "wrong-audience":
        claims["aud"] = OTHER_AUDIENCE
    elif kind == "expired":
        claims.update(iat=now - 900, nbf=now - 900, exp=now - 600)
    elif kind == "not-yet-valid":
        claims.update(iat=now + 600, nbf=now + 600, exp=now + 900)
    elif kind == "wrong-scope":
        claims["scope"] = [f"{OTHER_AUDIENCE}/read"]
    elif kind == "wrong-organisation":
        claims["helseid://claims/client/claims/orgnr_parent"] = OTHER_ORGANISATION
        claims.pop("helseid://claims/client/claims/orgnr_child", None)
    elif kind == "no-dpop-binding":
        claims.pop("cnf", None)
    if kind == "bad-signature":
        # Same kid as the real key, so a verifier cannot skip the check by failing the key lookup.
        impostor = RSAKey.generate_key(2048)
        header = {"alg": keys.ALG, "typ": "at+jwt", "kid": keys.signing_key(storage).kid}
        return jwt.encode(header, claims, impostor, algorithms=[keys.ALG])
    if kind == "alg-none":
        header = {"alg": "none", "typ": "at+jwt"}
        return f"{_b64json(header)}.{_b64json(claims)}."
    return issuing.sign(storage, claims)


def _b64json(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()
