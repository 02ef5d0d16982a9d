"""Ask the sandbox HelseID's broken-token service for a token that is wrong in one way.

Modelled on NHN's Test-Token-Tjeneste. The suite uses it to check that a vendor's FHIR API
refuses each kind; the expected answer is in EXPECTED (401 for a token that is not valid,
403 for a valid token that does not allow the call).
"""
from __future__ import annotations

from dataclasses import dataclass

import httpx

# kind -> the status a conformant resource server answers with
EXPECTED = {
    "valid": None,                 # accepted (any status but 401/403)
    "wrong-issuer": 401,
    "wrong-audience": 401,
    "bad-signature": 401,
    "expired": 401,
    "not-yet-valid": 401,
    "wrong-scope": 403,
    "wrong-organisation": 403,
    "no-dpop-binding": 401,
    "alg-none": 401,
}
KINDS = tuple(EXPECTED)


@dataclass(frozen=True)
class BrokenToken:
    kind: str
    access_token: str
    dpop_proof: str | None

    def headers(self) -> dict[str, str]:
        """Authorization (always the DPoP scheme: the point is what the token holds) and proof."""
        headers = {"Authorization": f"DPoP {self.access_token}"}
        if self.dpop_proof:
            headers["DPoP"] = self.dpop_proof
        return headers


def fetch(client: httpx.Client, helseid_url: str, kind: str, method: str, url: str, *,
          client_id: str | None = None, **extra: object) -> BrokenToken:
    """A token of this kind with a proof for one request (method, url)."""
    body = {"kind": kind, "htm": method.upper(), "htu": url, **extra}
    if client_id:
        body["client_id"] = client_id
    response = client.post(f"{helseid_url.rstrip('/')}/test-tokens", json=body)
    response.raise_for_status()
    data = response.json()
    return BrokenToken(kind, data["access_token"], data.get("dpop_proof"))
