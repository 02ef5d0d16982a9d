"""The platform refuses every request that HelseID's rules refuse, with a 401/403
OperationOutcome and a WWW-Authenticate header saying what was wrong and how to fix it."""
from __future__ import annotations

import time
import uuid

import httpx
import pytest
from joserfc import jwt

from conformance.auth import HelseIdAuth, dpop
from mock_platform import PlatformConfig, create_app, start_in_thread
from tests.security.conftest import HTTP, ORG_BERGEN, ORG_OSLO, READ, TLS, WRITE, SecurePlatform, issue_text, rule_of


@pytest.fixture()
def caller(secure_platform: SecurePlatform):
    """A registered client with a valid token, for building requests by hand."""
    auth = HelseIdAuth(secure_platform.register(scopes=READ + WRITE))
    with httpx.Client(verify=TLS) as client:
        token = auth.access_token(client)
        yield secure_platform, auth, token, client


def _url(platform: SecurePlatform, tenant: str = "0301") -> str:
    # A read of a patient that does not exist: an authorized caller gets 404, a refused one 401/403.
    return f"{platform.fhir(tenant)}/Patient/does-not-exist"


def _get(client: httpx.Client, url: str, token: str | None, proof: str | None, scheme: str = "DPoP") -> httpx.Response:
    headers = {}
    if token is not None:
        headers["Authorization"] = f"{scheme} {token}"
    if proof is not None:
        headers["DPoP"] = proof
    return client.get(url, headers=headers)


def _assert_refused(response: httpx.Response, status: int, text: str, www: str, rule: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert text in issue_text(response)
    assert "Fix: " in issue_text(response)
    assert response.headers["WWW-Authenticate"].startswith("DPoP ")
    assert www in response.headers["WWW-Authenticate"]
    assert rule_of(response) == f"sandkasse-security-{rule}"


def test_valid_token_and_proof_pass(caller) -> None:
    platform, auth, token, client = caller
    url = _url(platform)
    assert _get(client, url, token, dpop.proof(auth.dpop_key, "GET", url, access_token=token)).status_code == 404


def test_missing_token(caller) -> None:
    platform, auth, token, client = caller
    response = _get(client, _url(platform), None, None)
    _assert_refused(response, 401, "no access token", 'algs="', "missing-token")
    assert "error=" not in response.headers["WWW-Authenticate"]   # RFC 6750 §3.1: no error without credentials


def test_bearer_instead_of_dpop(caller) -> None:
    platform, auth, token, client = caller
    response = _get(client, _url(platform), token, None, scheme="Bearer")
    _assert_refused(response, 401, "DPoP is required", 'error="invalid_token"', "dpop-scheme")


def test_missing_proof(caller) -> None:
    platform, auth, token, client = caller
    _assert_refused(_get(client, _url(platform), token, None), 401, "no DPoP proof",
                    'error="invalid_dpop_proof"', "dpop-proof")


def test_replayed_proof(caller) -> None:
    platform, auth, token, client = caller
    url = _url(platform)
    proof = dpop.proof(auth.dpop_key, "GET", url, access_token=token)
    assert _get(client, url, token, proof).status_code == 404
    _assert_refused(_get(client, url, token, proof), 401, "already used", 'error="invalid_dpop_proof"', "dpop-proof")


def test_wrong_htu(caller) -> None:
    platform, auth, token, client = caller
    proof = dpop.proof(auth.dpop_key, "GET", f"{platform.fhir()}/Patient/another", access_token=token)
    _assert_refused(_get(client, _url(platform), token, proof), 401, "htu", 'error="invalid_dpop_proof"', "dpop-proof")


def test_htu_ignores_query(caller) -> None:
    platform, auth, token, client = caller
    url = f"{platform.fhir()}/Patient"
    proof = dpop.proof(auth.dpop_key, "GET", url, access_token=token)   # no query in htu (RFC 9449 §4.3)
    response = client.get(url, params={"identifier": "x|1"}, headers={"Authorization": f"DPoP {token}", "DPoP": proof})
    assert response.status_code not in (401, 403), response.text   # past authorization


def test_wrong_htm(caller) -> None:
    platform, auth, token, client = caller
    url = _url(platform)
    proof = dpop.proof(auth.dpop_key, "POST", url, access_token=token)
    _assert_refused(_get(client, url, token, proof), 401, "htm", 'error="invalid_dpop_proof"', "dpop-proof")


def test_wrong_ath(caller) -> None:
    platform, auth, token, client = caller
    url = _url(platform)
    proof = dpop.proof(auth.dpop_key, "GET", url, access_token=token + "x")
    _assert_refused(_get(client, url, token, proof), 401, "ath", 'error="invalid_dpop_proof"', "dpop-proof")


def test_proof_key_not_matching_cnf_jkt(caller) -> None:
    platform, auth, token, client = caller
    url = _url(platform)
    proof = dpop.proof(dpop.generate_key(), "GET", url, access_token=token)   # a stolen token, the thief's key
    _assert_refused(_get(client, url, token, proof), 401, "another key", 'error="invalid_dpop_proof"', "dpop-binding")


def test_stale_iat(caller) -> None:
    platform, auth, token, client = caller
    url = _url(platform)
    key = auth.dpop_key
    claims = {"jti": str(uuid.uuid4()), "htm": "GET", "htu": dpop.htu(url), "iat": int(time.time()) - 600,
              "ath": dpop.ath(token)}
    proof = jwt.encode({"typ": "dpop+jwt", "alg": "ES256", "jwk": dpop.public_jwk(key)}, claims, key)
    _assert_refused(_get(client, url, token, proof), 401, "iat", 'error="invalid_dpop_proof"', "dpop-proof")


def test_proof_with_wrong_typ(caller) -> None:
    platform, auth, token, client = caller
    url = _url(platform)
    key = auth.dpop_key
    claims = {"jti": str(uuid.uuid4()), "htm": "GET", "htu": dpop.htu(url), "iat": int(time.time()),
              "ath": dpop.ath(token)}
    proof = jwt.encode({"typ": "JWT", "alg": "ES256", "jwk": dpop.public_jwk(key)}, claims, key)
    _assert_refused(_get(client, url, token, proof), 401, "typ", 'error="invalid_dpop_proof"', "dpop-proof")


def test_token_of_another_tenant(caller) -> None:
    # An Oslo organisation's token used against Bergen's instance.
    platform, auth, token, client = caller
    url = _url(platform, "4601")
    response = _get(client, url, token, dpop.proof(auth.dpop_key, "GET", url, access_token=token))
    _assert_refused(response, 403, "does not act in tenant 4601", 'error="insufficient_scope"', "organisation")


def test_bergen_client_reaches_bergen_only(secure_platform: SecurePlatform) -> None:
    auth = HelseIdAuth(secure_platform.register(organisation=ORG_BERGEN))
    with httpx.Client(verify=TLS, auth=auth) as client:
        assert client.get(_url(secure_platform, "4601")).status_code == 404
        assert client.get(_url(secure_platform, "0301")).status_code == 403


def test_missing_scope_for_the_service(secure_platform: SecurePlatform) -> None:
    # A NEWS2 client may not read Kommunale tjenester data (EpisodeOfCare).
    auth = HelseIdAuth(secure_platform.register(scopes=["nhn:sandkasse-plattform/news2-malinger.read"]))
    with httpx.Client(verify=TLS, auth=auth) as client:
        response = client.get(f"{secure_platform.fhir()}/EpisodeOfCare/x")
    _assert_refused(response, 403, "no scope that allows read of EpisodeOfCare",
                    'scope="nhn:sandkasse-plattform/kommunale-tjenester.read"', "scope")


def test_write_with_a_read_scope(secure_platform: SecurePlatform) -> None:
    auth = HelseIdAuth(secure_platform.register(scopes=READ))
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": []}
    with httpx.Client(verify=TLS, auth=auth) as client:
        response = client.post(secure_platform.fhir(), json=bundle)
    _assert_refused(response, 403, "no scope that allows write", 'error="insufficient_scope"', "scope")


def test_missing_purpose_of_use_for_patient_data(secure_platform: SecurePlatform) -> None:
    auth = HelseIdAuth(secure_platform.register(), purpose_of_use=None)
    with httpx.Client(verify=TLS, auth=auth) as client:
        response = client.get(_url(secure_platform))
        assert client.get(f"{secure_platform.fhir()}/metadata").status_code == 200
    _assert_refused(response, 403, "purpose of use", 'error="insufficient_scope"', "purpose-of-use")


def test_dpop_nonce_at_the_api_is_handled_by_the_client(tmp_path) -> None:
    """With DPOP_NONCE_AT_API the platform asks for a nonce (401 use_dpop_nonce); the client retries."""
    from mock_platform import PlatformConfig, create_app, start_in_thread
    from mock_platform.security import protect_fhir_api
    from tests.security.conftest import ORG_OSLO

    app = create_app(PlatformConfig(database=str(tmp_path / "p.sqlite3"), auth="helseid", extra={
        "TENANT_ORGANISATIONS": {"0301": [ORG_OSLO]}, "DPOP_NONCE_AT_API": True}))
    protect_fhir_api(app)
    with start_in_thread(app) as server:
        platform = SecurePlatform(server.url, app)
        seen: list[int] = []
        auth = HelseIdAuth(platform.register())
        with httpx.Client(verify=TLS, auth=auth, event_hooks={"response": [lambda r: seen.append(r.status_code)]}) as client:
            assert client.get(_url(platform)).status_code == 404
            assert client.get(_url(platform)).status_code == 404   # the remembered nonce is reused
    assert seen == [200, 400, 200, 401, 404, 404]


@pytest.mark.parametrize("htu", ["http://x/€/😀", "http://x/\r\nSet-Cookie: a=b", "http://x/" + "a" * 5000])
def test_hostile_claims_in_a_proof_are_refused_cleanly(caller, htu: str) -> None:
    """Attacker-controlled values echoed in the answer never break it (no 500, no header injection)."""
    platform, auth, token, client = caller
    key = auth.dpop_key
    claims = {"jti": str(uuid.uuid4()), "htm": "GET", "htu": htu, "iat": int(time.time()), "ath": dpop.ath(token)}
    proof = jwt.encode({"typ": "dpop+jwt", "alg": "ES256", "jwk": dpop.public_jwk(key)}, claims, key)
    response = _get(client, _url(platform), token, proof)
    assert response.status_code == 401, response.text
    assert "set-cookie" not in response.headers
    assert len(response.headers["WWW-Authenticate"]) < 1000


def test_search_by_post_and_validate_need_only_a_read_scope(secure_platform: SecurePlatform) -> None:
    auth = HelseIdAuth(secure_platform.register(scopes=READ))
    with httpx.Client(verify=TLS, auth=auth) as client:
        search = client.post(f"{secure_platform.fhir()}/Patient/_search", data={"identifier": "x|1"})
        validate = client.post(f"{secure_platform.fhir()}/Patient/$validate", json={"resourceType": "Patient"})
    assert search.status_code not in (401, 403), search.text
    assert validate.status_code not in (401, 403), validate.text


def test_admin_api_needs_the_operator_token_in_helseid_mode(fresh_platform) -> None:
    """The admin API runs the sandbox (tenants, faults): only the operator may use it."""
    url = f"{fresh_platform.url}/admin/tenants"
    refused = HTTP.post(url, json={"id": "acme-test", "kind": "vendor", "kommunenummer": "0301"})
    assert refused.status_code == 401
    assert refused.json()["issue"][0]["diagnostics"].startswith("Fix: Send Authorization: Bearer <operator token>")
    wrong = HTTP.post(url, json={"id": "acme-test"}, headers={"Authorization": "Bearer sandkasse-dev-operator"})
    assert wrong.status_code == 401   # the development token is not accepted with enforcement on


def test_tenant_created_with_its_organisation_admits_only_that_organisations_clients(tmp_path) -> None:
    app = create_app(PlatformConfig(database=str(tmp_path / "p.sqlite3"), auth="helseid",
                                    extra={"OPERATOR_TOKEN": "operator-secret"}))
    with start_in_thread(app) as server:
        platform = SecurePlatform(server.url, app)
        created = HTTP.post(f"{server.url}/admin/tenants", headers={"Authorization": "Bearer operator-secret"},
                            json={"id": "acme-test", "kind": "vendor", "kommunenummer": "0301",
                                  "organisations": [ORG_BERGEN]})
        assert created.status_code == 201, created.text
        bergen = platform.register(organisation=ORG_BERGEN)
        oslo = platform.register(organisation=ORG_OSLO)
        with httpx.Client(auth=HelseIdAuth(bergen, purpose_of_use="TREAT"), verify=TLS) as client:
            assert client.get(f"{platform.fhir('acme-test')}/Patient", params={"_count": 1}).status_code == 200
        with httpx.Client(auth=HelseIdAuth(oslo, purpose_of_use="TREAT"), verify=TLS) as client:
            refused = client.get(f"{platform.fhir('acme-test')}/Patient", params={"_count": 1})
        assert refused.status_code == 403
        assert f"Organisation {ORG_OSLO} does not act in tenant acme-test" in refused.text
