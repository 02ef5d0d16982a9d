"""`HelseIdAuth`: an httpx auth class that logs in to HelseID and calls a DPoP-protected API.

Read this as the reference for what an EPJ must do on every call:

1. Get an access token from the token endpoint with `client_credentials`, authenticating with
   a private_key_jwt client assertion and proving possession of a DPoP key. The first token
   call is answered 400 `use_dpop_nonce` with a `DPoP-Nonce` header; repeat it with the nonce.
2. Cache the token until shortly before it expires; never use an expired token.
3. Send each API request with `Authorization: DPoP <token>` and a fresh `DPoP` proof bound to
   this method and URL (htm, htu), to this token (ath), with a new jti and the current iat.
   If the API asks for a nonce (401 `use_dpop_nonce`), repeat the request once with it.

Organisation and purpose of use travel in the client assertion's `assertion_details`, as
HelseID.Library sends them; HelseID copies them into the access token.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Generator
from urllib.parse import urlsplit

import httpx

from conformance.auth import dpop
from conformance.auth.config import HelseIdClientConfig

PURPOSE_OF_USE_SYSTEM = "urn:oid:2.16.840.1.113883.1.11.20448"   # HL7 v3 PurposeOfUse
EXPIRY_MARGIN = 30    # seconds: renew the token this long before it expires


def assertion_details(config: HelseIdClientConfig, purpose_of_use: str | None) -> list[dict]:
    """Organisation selection (HelseID.Library's OrganizationNumberCreatorFor*TenantClient) and
    the purpose of use (modelled on NHN's Tillitsrammeverk `care_relationship.purpose_of_use`)."""
    parent, child = config.organisation.get("parent"), config.organisation.get("child")
    if config.tenancy == "multi":
        identifier = {"system": "urn:oid:1.0.6523", "type": "ENH",
                      "value": f"NO:ORGNR:{parent}" + (f":{child}" if child else "")}
    else:
        identifier = {"system": "urn:oid:2.16.578.1.12.4.1.4.101", "type": "ENH", "value": child or parent}
    details = [{"type": "helseid_authorization",
                "practitioner_role": {"organization": {"identifier": identifier}}}]
    if purpose_of_use:
        details.append({"type": "nhn:tillitsrammeverk:parameters",
                        "care_relationship": {"purpose_of_use": {"code": purpose_of_use,
                                                                 "system": PURPOSE_OF_USE_SYSTEM}}})
    return details


class TokenError(Exception):
    """The token endpoint refused us; the message carries HelseID's error and description."""


class HelseIdAuth(httpx.Auth):
    requires_response_body = True

    def __init__(self, config: HelseIdClientConfig, *, purpose_of_use: str | None = "TREAT",
                 dpop_key: dpop.Key | None = None) -> None:
        self.config = config
        self.purpose_of_use = purpose_of_use
        self._client_key = config.private_key()
        # The DPoP key is separate from the client key and lives only in memory.
        self.dpop_key = dpop_key or dpop.generate_key()
        self._token_endpoint = config.token_endpoint
        self._token: str | None = None
        self._expires_at = 0.0
        self._nonces: dict[str, str] = {}        # latest DPoP-Nonce per origin
        self._lock = threading.Lock()

    # -- the httpx hook --------------------------------------------------------------------

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not self._token_valid():
            yield from self._fetch_token()
        response = yield self._with_proof(request)
        if self._remember_nonce(response) and _asks_for_nonce(response):
            yield self._with_proof(request)

    def access_token(self, client: httpx.Client) -> str:
        """The current access token, fetched through `client` if needed (for tools that build
        requests by hand, e.g. the suite's negative tests)."""
        if not self._token_valid():
            flow = self._fetch_token()
            try:
                request = next(flow)
                while True:
                    response = client.send(request)
                    response.read()
                    request = flow.send(response)
            except StopIteration:
                pass
        assert self._token is not None
        return self._token

    # -- token endpoint --------------------------------------------------------------------

    def _token_valid(self) -> bool:
        return self._token is not None and time.time() < self._expires_at - EXPIRY_MARGIN

    def _fetch_token(self) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token_endpoint is None:
            discovery = yield httpx.Request("GET", self.config.issuer.rstrip("/") + "/.well-known/openid-configuration")
            self._token_endpoint = discovery.json()["token_endpoint"]
        response = yield self._token_request()
        if self._remember_nonce(response) and _asks_for_nonce(response):
            response = yield self._token_request()     # a new assertion: its jti is single-use
        if response.status_code != 200:
            body = _json(response)
            raise TokenError(f"token endpoint answered {response.status_code}: "
                             f"{body.get('error')}: {body.get('error_description')}")
        body = response.json()
        if body.get("token_type") != "DPoP":
            raise TokenError(f"expected a DPoP-bound token, got token_type {body.get('token_type')!r}")
        with self._lock:
            self._token = body["access_token"]
            self._expires_at = time.time() + int(body.get("expires_in", 0))

    def _token_request(self) -> httpx.Request:
        assertion = dpop.client_assertion(
            self._client_key, self.config.client_id, self.config.issuer,
            extra={"assertion_details": assertion_details(self.config, self.purpose_of_use)})
        form = {"grant_type": "client_credentials", "client_id": self.config.client_id,
                "client_assertion_type": dpop.ASSERTION_TYPE, "client_assertion": assertion,
                "scope": " ".join(self.config.scopes)}
        proof = dpop.proof(self.dpop_key, "POST", self._token_endpoint,
                           nonce=self._nonces.get(_origin(self._token_endpoint)))
        return httpx.Request("POST", self._token_endpoint, data=form, headers={"DPoP": proof})

    # -- resource server -------------------------------------------------------------------

    def _with_proof(self, request: httpx.Request) -> httpx.Request:
        url = str(request.url)
        request.headers["Authorization"] = f"DPoP {self._token}"
        request.headers["DPoP"] = dpop.proof(self.dpop_key, request.method, url, access_token=self._token,
                                             nonce=self._nonces.get(_origin(url)))
        return request

    def _remember_nonce(self, response: httpx.Response) -> bool:
        nonce = response.headers.get("DPoP-Nonce")
        if nonce:
            self._nonces[_origin(str(response.request.url))] = nonce
        return bool(nonce)


def _asks_for_nonce(response: httpx.Response) -> bool:
    if response.status_code == 400:          # authorization server (RFC 9449 §8)
        return _json(response).get("error") == "use_dpop_nonce"
    return response.status_code == 401 and "use_dpop_nonce" in response.headers.get("WWW-Authenticate", "")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
