"""Whatever arrives in Authorization, DPoP or the token request, the answer is a clean refusal:
never a 500, never a stack trace (property-based, over real HTTP)."""
from __future__ import annotations

import base64
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.auth import HelseIdAuth
from tests.security.conftest import HTTP, TLS, SecurePlatform

# h11 (the client) refuses header values with surrounding whitespace, so strip them.
_header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=300).map(str.strip)


def _b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


# Structurally plausible JWTs with hostile headers and claims: what a fuzzer sends after the
# trivial garbage is refused.
_json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                            max_leaves=8)
_jwt_like = st.builds(lambda h, c, sig: f"{_b64(h)}.{_b64(c)}.{sig}",
                      st.dictionaries(st.sampled_from(["alg", "typ", "jwk", "kid"]), _json_values, max_size=4),
                      st.dictionaries(st.sampled_from(["iss", "aud", "exp", "cnf", "jti", "htu", "htm", "iat", "ath"]),
                                      _json_values, max_size=6),
                      st.text(alphabet="abcXYZ019-_", max_size=20))

_settings = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_settings
@given(scheme=st.sampled_from(["DPoP", "Bearer", "dpop", ""]), token=_header_text | _jwt_like,
       proof=st.none() | _header_text | _jwt_like)
def test_resource_server_never_fails_on_hostile_headers(secure_platform: SecurePlatform, scheme: str, token: str,
                                                        proof: str | None) -> None:
    headers = {"Authorization": f"{scheme} {token}".strip()}
    if proof is not None:
        headers["DPoP"] = proof
    response = HTTP.get(f"{secure_platform.fhir()}/Patient/x", headers=headers)
    assert response.status_code in (401, 403), response.text
    assert response.json()["resourceType"] == "OperationOutcome"


@_settings
@given(assertion=_header_text | _jwt_like, proof=st.none() | _header_text | _jwt_like,
       grant=st.sampled_from(["client_credentials", "password", ""]))
def test_token_endpoint_never_fails_on_hostile_input(secure_platform: SecurePlatform, assertion: str,
                                                     proof: str | None, grant: str) -> None:
    headers = {"DPoP": proof} if proof is not None else {}
    response = HTTP.post(secure_platform.token_endpoint, headers=headers, data={
        "grant_type": grant, "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion, "scope": "nhn:sandkasse-plattform/kommunale-tjenester.read"})
    assert response.status_code in (400, 401), response.text
    assert "error" in response.json()


@pytest.fixture(scope="module")
def valid_token(secure_platform: SecurePlatform) -> str:
    auth = HelseIdAuth(secure_platform.register())
    with httpx.Client(verify=TLS) as client:
        return auth.access_token(client)


@_settings
@given(proof=_header_text | _jwt_like)
def test_proof_checks_never_fail_on_hostile_proofs(secure_platform: SecurePlatform, valid_token: str,
                                                   proof: str) -> None:
    # A valid token gets past the token checks, so the hostile proof reaches every proof check.
    response = HTTP.get(f"{secure_platform.fhir()}/Patient/x",
                        headers={"Authorization": f"DPoP {valid_token}", "DPoP": proof})
    assert response.status_code == 401, response.text
    assert "invalid_dpop_proof" in response.headers["WWW-Authenticate"]
