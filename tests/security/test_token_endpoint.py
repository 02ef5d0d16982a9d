"""The mock HelseID's token endpoint refuses what HelseID refuses (OAuth errors, RFC 6749 §5.2)."""
from __future__ import annotations

import time
import uuid

import httpx
import pytest
from joserfc import jwt

from conformance.auth import HelseIdAuth, TokenError, dpop
from conformance.auth.client import assertion_details
from tests.security.conftest import HTTP, TLS, ORG_OSLO, ORG_OSLO_CHILD, READ, SecurePlatform


@pytest.fixture()
def vendor(secure_platform: SecurePlatform):
    config = secure_platform.register()
    return secure_platform, config, config.private_key(), dpop.generate_key()


def _nonce(platform: SecurePlatform, dpop_key) -> str:
    response = HTTP.post(platform.token_endpoint, data={"grant_type": "client_credentials"},
                          headers={"DPoP": dpop.proof(dpop_key, "POST", platform.token_endpoint)})
    assert response.status_code == 400 and response.json()["error"] == "use_dpop_nonce"
    return response.headers["DPoP-Nonce"]


def _assertion(key, client_id: str, aud: str, **overrides) -> str:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "nbf": now, "exp": now + 10,
              "jti": str(uuid.uuid4())}
    claims.update(overrides)
    return jwt.encode({"alg": dpop.alg_for(key), "typ": "client-authentication+jwt"}, claims, key)


def _token_call(platform: SecurePlatform, dpop_key, assertion: str | None, *, client_id: str | None = None,
                nonce: str | None = None, proof: bool = True, scope: str = " ".join(READ)) -> httpx.Response:
    form = {"grant_type": "client_credentials", "scope": scope,
            "client_assertion_type": dpop.ASSERTION_TYPE}
    if assertion is not None:
        form["client_assertion"] = assertion
    if client_id:
        form["client_id"] = client_id
    headers = {"DPoP": dpop.proof(dpop_key, "POST", platform.token_endpoint,
                                  nonce=nonce or _nonce(platform, dpop_key))} if proof else {}
    return HTTP.post(platform.token_endpoint, data=form, headers=headers)


def _refused(response: httpx.Response, status: int, error: str, text: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert text in response.json()["error_description"]
    assert response.headers["Cache-Control"] == "no-store"
    # The same body is the project's OperationOutcome, with the rule and a fix.
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == f"helseid-{error}"
    assert response.json()["issue"][0]["diagnostics"].startswith("Fix: ")


def test_well_formed_request_gets_a_dpop_token(vendor) -> None:
    platform, config, key, dpop_key = vendor
    response = _token_call(platform, dpop_key, _assertion(key, config.client_id, platform.issuer))
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "DPoP"
    assert response.json()["expires_in"] > 0


def test_missing_dpop_proof(vendor) -> None:
    platform, config, key, dpop_key = vendor
    _refused(_token_call(platform, dpop_key, _assertion(key, config.client_id, platform.issuer), proof=False),
             400, "invalid_dpop_proof", "no DPoP proof")


def test_missing_nonce_gets_400_with_a_nonce(vendor) -> None:
    platform, config, key, dpop_key = vendor
    response = HTTP.post(platform.token_endpoint, data={"grant_type": "client_credentials"},
                          headers={"DPoP": dpop.proof(dpop_key, "POST", platform.token_endpoint)})
    _refused(response, 400, "use_dpop_nonce", "nonce")
    assert len(response.headers["DPoP-Nonce"]) >= 16


def test_invented_nonce_is_refused(vendor) -> None:
    platform, config, key, dpop_key = vendor
    response = _token_call(platform, dpop_key, _assertion(key, config.client_id, platform.issuer), nonce="made-up")
    _refused(response, 400, "use_dpop_nonce", "nonce")


def test_bad_assertion_signature(vendor) -> None:
    platform, config, key, dpop_key = vendor
    _refused(_token_call(platform, dpop_key, _assertion(dpop.generate_key(), config.client_id, platform.issuer)),
             401, "invalid_client", "signature does not verify")


def test_wrong_assertion_audience(vendor) -> None:
    platform, config, key, dpop_key = vendor
    _refused(_token_call(platform, dpop_key, _assertion(key, config.client_id, platform.token_endpoint + "/x")),
             401, "invalid_client", "aud must be the issuer")


def test_expired_assertion(vendor) -> None:
    platform, config, key, dpop_key = vendor
    now = int(time.time())
    assertion = _assertion(key, config.client_id, platform.issuer, iat=now - 120, nbf=now - 120, exp=now - 60)
    _refused(_token_call(platform, dpop_key, assertion), 401, "invalid_client", "expired")


def test_long_lived_assertion(vendor) -> None:
    platform, config, key, dpop_key = vendor
    assertion = _assertion(key, config.client_id, platform.issuer, exp=int(time.time()) + 3600)
    _refused(_token_call(platform, dpop_key, assertion), 401, "invalid_client", "short life")


def test_replayed_assertion_jti(vendor) -> None:
    platform, config, key, dpop_key = vendor
    assertion = _assertion(key, config.client_id, platform.issuer)
    assert _token_call(platform, dpop_key, assertion).status_code == 200
    _refused(_token_call(platform, dpop_key, assertion), 401, "invalid_client", "replayed jti")


def test_unknown_client(vendor) -> None:
    platform, config, key, dpop_key = vendor
    _refused(_token_call(platform, dpop_key, _assertion(key, "nobody", platform.issuer)),
             401, "invalid_client", "Unknown client 'nobody'")


def test_iss_sub_must_be_the_client(vendor) -> None:
    platform, config, key, dpop_key = vendor
    assertion = _assertion(key, config.client_id, platform.issuer, sub="someone-else")
    _refused(_token_call(platform, dpop_key, assertion), 401, "invalid_client", "iss and sub")


def test_missing_assertion(vendor) -> None:
    platform, config, key, dpop_key = vendor
    _refused(_token_call(platform, dpop_key, None), 401, "invalid_client", "private_key_jwt")


def test_unregistered_scope(vendor) -> None:
    platform, config, key, dpop_key = vendor
    response = _token_call(platform, dpop_key, _assertion(key, config.client_id, platform.issuer),
                           scope="nhn:sandkasse-plattform/kommunale-tjenester.write")
    _refused(response, 400, "invalid_scope", "registered for")


def test_dpop_proof_for_another_url(vendor) -> None:
    platform, config, key, dpop_key = vendor
    form = {"grant_type": "client_credentials", "scope": " ".join(READ), "client_assertion_type": dpop.ASSERTION_TYPE,
            "client_assertion": _assertion(key, config.client_id, platform.issuer)}
    proof = dpop.proof(dpop_key, "POST", platform.issuer + "/elsewhere", nonce=_nonce(platform, dpop_key))
    _refused(HTTP.post(platform.token_endpoint, data=form, headers={"DPoP": proof}), 400, "invalid_dpop_proof", "htu")


def test_client_surfaces_refusal_as_token_error(secure_platform: SecurePlatform) -> None:
    config = secure_platform.register()
    config.client_id = "not-registered"
    with httpx.Client(verify=TLS, auth=HelseIdAuth(config)) as client, pytest.raises(TokenError, match="invalid_client"):
        client.get(f"{secure_platform.fhir()}/Patient/x")


# -- organisation selection --------------------------------------------------------------------

def _claims(platform: SecurePlatform, config, purpose: str | None = "TREAT") -> dict:
    import base64
    import json
    with httpx.Client(verify=TLS) as client:
        token = HelseIdAuth(config, purpose_of_use=purpose).access_token(client)
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


def test_single_tenant_client_selects_a_registered_child(secure_platform: SecurePlatform) -> None:
    config = secure_platform.register(children=[ORG_OSLO_CHILD])
    config.organisation = {"parent": ORG_OSLO, "child": ORG_OSLO_CHILD}
    claims = _claims(secure_platform, config)
    assert claims["helseid://claims/client/claims/orgnr_parent"] == ORG_OSLO
    assert claims["helseid://claims/client/claims/orgnr_child"] == ORG_OSLO_CHILD


def test_single_tenant_client_cannot_select_an_unregistered_child(secure_platform: SecurePlatform) -> None:
    config = secure_platform.register()
    config.organisation = {"parent": ORG_OSLO, "child": "310000035"}
    with pytest.raises(TokenError, match="not a registered child"):
        _claims(secure_platform, config)


def test_multi_tenant_client_acts_for_a_delegating_organisation(secure_platform: SecurePlatform) -> None:
    config = secure_platform.register(tenancy="multi")
    claims = _claims(secure_platform, config)
    assert claims["helseid://claims/client/claims/client_tenancy"] == "multi-tenant"
    assert claims["helseid://claims/client/claims/orgnr_parent"] == ORG_OSLO
    assert assertion_details(config, None)[0]["practitioner_role"]["organization"]["identifier"]["value"] \
        == f"NO:ORGNR:{ORG_OSLO}"
    config.organisation = {"parent": "310000043"}
    with pytest.raises(TokenError, match="has not delegated access"):
        _claims(secure_platform, config)


def test_unknown_purpose_of_use_is_refused(secure_platform: SecurePlatform) -> None:
    with pytest.raises(TokenError, match="purpose_of_use must be one of"):
        _claims(secure_platform, secure_platform.register(), purpose="CURIOSITY")


def test_registration_refuses_a_private_key(secure_platform: SecurePlatform) -> None:
    key = dpop.generate_key()
    response = HTTP.post(f"{secure_platform.issuer}/admin/clients", json={
        "client_name": "leaky", "jwk": key.as_dict(private=True), "scopes": READ, "organisation": ORG_OSLO})
    assert response.status_code == 400
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["expression"] == ["jwk"]
    assert "private" in body["issue"][0]["details"]["text"]


def test_registration_refuses_a_real_looking_organisation(secure_platform: SecurePlatform) -> None:
    response = HTTP.post(f"{secure_platform.issuer}/admin/clients", json={
        "client_name": "real org", "jwk": dpop.public_jwk(dpop.generate_key()), "scopes": READ,
        "organisation": "974760673"})
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["organisation"]


@pytest.mark.filterwarnings("ignore:Key size should be")   # the weak key is the point of this test
def test_registration_refuses_a_short_rsa_key(secure_platform: SecurePlatform) -> None:
    from joserfc.jwk import RSAKey
    weak = RSAKey.generate_key(1024, private=True, auto_kid=False)
    response = HTTP.post(f"{secure_platform.issuer}/admin/clients", json={
        "client_name": "weak", "jwk": weak.as_dict(private=False), "scopes": READ, "organisation": ORG_OSLO})
    assert response.status_code == 400
    assert "2048" in response.json()["issue"][0]["details"]["text"]


def test_rsa_client_key_works(secure_platform: SecurePlatform) -> None:
    config = secure_platform.register(key_kind="RSA")
    with httpx.Client(verify=TLS, auth=HelseIdAuth(config)) as client:
        assert client.get(f"{secure_platform.fhir()}/Patient/none").status_code == 404
