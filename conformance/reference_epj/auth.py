"""The EPJ's HelseID login: `conformance.auth.HelseIdAuth`, plus the defect switches of the
transport and a development issuer for platforms without HelseID in front.
"""
from __future__ import annotations

import math
import ssl
import time
import uuid
from functools import cache

import httpx
from joserfc import jwt

from conformance.auth import HelseIdAuth, HelseIdClientConfig, assertion_details
from conformance.auth import dpop
from conformance.reference_epj.config import Defect, EpjConfig

AUDIENCE = "nhn:sandkasse-plattform"
SERVICES = ("kommunale-tjenester", "news2-malinger")
DEV_ISSUER = "urn:sandkasse:reference-epj:development-issuer"


def scopes_for(role: str, config: EpjConfig) -> list[str]:
    """Least privilege: a consumer reads; a producer writes, and reads only to find the patient
    (the platform's Patient is shared data, readable with any service's read scope)."""
    actions = ["read", "write"] if role == "producer" else ["read"]
    if role == "producer" and config.has(Defect.WRONG_SCOPE):
        actions = ["read"]
    scopes = [f"{AUDIENCE}/{service}.{action}" for service in SERVICES for action in actions]
    if role == "consumer" and config.has(Defect.CONSUMER_WRONG_SCOPE):
        scopes += [f"{AUDIENCE}/{service}.write" for service in SERVICES]
    if role == "producer" and config.has(Defect.WRONG_AUDIENCE):
        scopes = [s.replace(AUDIENCE, "nhn:kjernejournal") for s in scopes]
    return scopes


class EpjAuth(HelseIdAuth):
    """HelseIdAuth for one role of the EPJ, with the transport defects as single code paths."""

    def __init__(self, config: EpjConfig, role: str) -> None:
        self.epj = config
        self.role = role
        client = config.helseid or HelseIdClientConfig(
            issuer=DEV_ISSUER, client_id=config.source_system, scopes=[],
            organisation={"parent": config.organisation},
            private_jwk=dpop.generate_key().as_dict(private=True))
        client = HelseIdClientConfig(**{**client.__dict__, "scopes": scopes_for(role, config)})
        purpose = None if role == "consumer" and config.has(Defect.NO_PURPOSE_OF_USE) else "TREAT"
        super().__init__(client, purpose_of_use=purpose)
        self._first_proof: str | None = None
        self._stale = role == "producer" and config.has(Defect.STALE_TOKEN)
        if self._stale and config.helseid is None:
            list(self._fetch_token())      # the defect: one login at start-up, kept for good

    def _token_valid(self) -> bool:
        if self._stale and self._token is not None:
            return True                    # the defect: never looks at the token's expiry
        return super()._token_valid()

    def _fetch_token(self):
        if self.epj.helseid is not None:
            yield from super()._fetch_token()
            return
        # Development issuer: the claims HelseID would put in the token, signed by the EPJ itself.
        now = math.ceil(time.time())     # whole seconds, never earlier than now: exp >= now + lifetime
        claims = {"iss": DEV_ISSUER, "aud": self.config.scopes[0].split("/")[0],
                  "client_id": self.config.client_id, "scope": list(self.config.scopes),
                  "iat": now, "nbf": now, "exp": now + self.epj.token_lifetime, "jti": str(uuid.uuid4()),
                  "helseid://claims/client/claims/orgnr_parent": self.epj.organisation,
                  "cnf": {"jkt": dpop.thumbprint(self.dpop_key)}}
        details = [d for d in assertion_details(self.config, self.purpose_of_use)
                   if d["type"] != "helseid_authorization"]
        if details:
            claims["authorization_details"] = details
        self._token = jwt.encode({"alg": "ES256", "typ": "at+jwt"}, claims, self._client_key, algorithms=["ES256"])
        self._expires_at = claims["exp"]

    def _with_proof(self, request: httpx.Request) -> httpx.Request:
        request = super()._with_proof(request)
        if self.epj.helseid is None:
            # A platform with the development flag does not verify tokens; it knows its caller
            # by these headers (docs/security.md), so sperring and source ownership still apply
            # to this EPJ's client. A platform enforcing HelseID ignores them.
            request.headers["X-Sandkasse-Dev-Client"] = self.config.client_id
            request.headers["X-Sandkasse-Dev-Org"] = self.epj.organisation
        missing = Defect.MISSING_DPOP if self.role == "producer" else Defect.CONSUMER_MISSING_DPOP
        if self.epj.has(missing):
            request.headers["Authorization"] = f"Bearer {self._token}"
            del request.headers["DPoP"]
        elif self.role == "producer" and self.epj.has(Defect.BEARER_SCHEME):
            request.headers["Authorization"] = f"Bearer {self._token}"
        elif self.role == "producer" and self.epj.has(Defect.REUSED_DPOP_PROOF):
            self._first_proof = self._first_proof or request.headers["DPoP"]
            request.headers["DPoP"] = self._first_proof
        return request


@cache
def _tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()   # verifying; built once, not per client


def client_for(config: EpjConfig, role: str, timeout: float | None = None) -> httpx.Client:
    return httpx.Client(base_url=config.platform_url.rstrip("/") + "/", auth=EpjAuth(config, role),
                        timeout=timeout, headers={"Accept": "application/fhir+json"}, verify=_tls())
