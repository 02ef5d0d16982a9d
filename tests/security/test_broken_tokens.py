"""The broken-token service (modelled on NHN's Test-Token-Tjeneste) and the platform's refusal
of each kind. The suite uses the same service against a vendor's FHIR API."""
from __future__ import annotations

import base64
import json

import httpx
import pytest

from conformance.auth import testtokens
from tests.security.conftest import HTTP, TLS, SecurePlatform, issue_text, rule_of

REFUSALS = {
    # kind: (status, text in the OperationOutcome, text in WWW-Authenticate)
    "wrong-issuer": (401, "issuer 'https://helseid-sts.test.nhn.no'", 'error="invalid_token"'),
    "wrong-audience": (401, "audience 'nhn:annet-api'", 'error="invalid_token"'),
    "bad-signature": (401, "signature does not verify", 'error="invalid_token"'),
    "expired": (401, "has expired", 'error="invalid_token"'),
    "not-yet-valid": (401, "not valid yet", 'error="invalid_token"'),
    "wrong-scope": (403, "no scope that allows read of Patient", 'error="insufficient_scope"'),
    "wrong-organisation": (403, "Organisation 399999995 does not act in tenant 0301", 'error="insufficient_scope"'),
    "no-dpop-binding": (401, "not bound to a DPoP key", 'error="invalid_token"'),
    "alg-none": (401, "alg 'none' is not accepted", 'error="invalid_token"'),
}


def _test_token(platform: SecurePlatform, kind: str, url: str, client_id: str | None = None) -> dict:
    body = {"kind": kind, "htm": "GET", "htu": url}
    if client_id:
        body["client_id"] = client_id
    response = HTTP.post(f"{platform.issuer}/test-tokens", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_valid_test_token_is_accepted(secure_platform: SecurePlatform) -> None:
    client_id = secure_platform.register().client_id
    url = f"{secure_platform.fhir()}/Patient/does-not-exist"
    issued = _test_token(secure_platform, "valid", url, client_id)
    response = HTTP.get(url, headers={"Authorization": f"DPoP {issued['access_token']}", "DPoP": issued["dpop_proof"]})
    assert response.status_code == 404, response.text


def test_every_kind_is_covered() -> None:
    assert set(REFUSALS) | {"valid"} == set(testtokens.KINDS)
    assert all(testtokens.EXPECTED[kind] == status for kind, (status, _, _) in REFUSALS.items())


@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_each_broken_token_is_refused(secure_platform: SecurePlatform, kind: str) -> None:
    status, text, www = REFUSALS[kind]
    client_id = secure_platform.register().client_id
    url = f"{secure_platform.fhir()}/Patient/does-not-exist"
    token = testtokens.fetch(HTTP, secure_platform.issuer, kind, "GET", url, client_id=client_id)
    response = HTTP.get(url, headers=token.headers())
    assert response.status_code == status, response.text
    assert text in issue_text(response)
    assert www in response.headers["WWW-Authenticate"]
    assert rule_of(response).startswith("sandkasse-security-")


def test_alg_none_token_really_has_no_signature(secure_platform: SecurePlatform) -> None:
    issued = _test_token(secure_platform, "alg-none", f"{secure_platform.fhir()}/metadata")
    header, payload, signature = issued["access_token"].split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "=="))["alg"] == "none" and signature == ""


def test_unknown_kind_is_an_operation_outcome(secure_platform: SecurePlatform) -> None:
    response = HTTP.post(f"{secure_platform.issuer}/test-tokens", json={"kind": "forged"})
    assert response.status_code == 400
    assert "alg-none" in issue_text(response)


def test_user_token_carries_the_synthetic_person(secure_platform: SecurePlatform) -> None:
    client_id = secure_platform.register().client_id
    url = f"{secure_platform.fhir()}/Patient/does-not-exist"
    body = {"kind": "valid", "client_id": client_id, "htm": "GET", "htu": url,
            "user": {"pid": "13896099935", "hpr_number": "991234567"}}
    issued = HTTP.post(f"{secure_platform.issuer}/test-tokens", json=body).json()
    claims = json.loads(base64.urlsafe_b64decode(issued["access_token"].split(".")[1] + "=="))
    assert claims["helseid://claims/identity/pid"] == "13896099935"
    assert claims["helseid://claims/hpr/hpr_number"] == "991234567"
    assert claims["helseid://claims/identity/security_level"] == "4"
    response = HTTP.get(url, headers={"Authorization": f"DPoP {issued['access_token']}", "DPoP": issued["dpop_proof"]})
    assert response.status_code == 404


def test_user_token_refuses_a_non_synthetic_pid(secure_platform: SecurePlatform) -> None:
    response = HTTP.post(f"{secure_platform.issuer}/test-tokens",
                          json={"kind": "valid", "user": {"pid": "13096099915"}})
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["user.pid"]


@pytest.mark.parametrize("body", [{"kind": "valid", "htm": 5, "htu": "http://x"}, {"kind": "valid", "organisation": "x"},
                                  {"kind": "valid", "scopes": "a b"}, {"kind": "valid", "user": "13896099935"},
                                  {"kind": "valid", "organisation": {"parent": ["x"]}}, ["kind"]])
def test_malformed_test_token_requests_are_operation_outcomes(secure_platform: SecurePlatform, body) -> None:
    response = HTTP.post(f"{secure_platform.issuer}/test-tokens", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("extra", [{"organisations": "310000000"}, {"children": "310000019"}, {"scopes": "x"},
                                   {"organisation": ["310000000"]}, {"client_id": 5}])
def test_malformed_registrations_are_operation_outcomes(secure_platform: SecurePlatform, extra: dict) -> None:
    from conformance.auth import dpop
    body = {"client_name": "x", "jwk": dpop.public_jwk(dpop.generate_key()),
            "scopes": ["nhn:sandkasse-plattform/kommunale-tjenester.read"], "organisation": "310000000", **extra}
    response = HTTP.post(f"{secure_platform.issuer}/admin/clients", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["resourceType"] == "OperationOutcome"
