"""A correctly behaving client gets in: private_key_jwt + DPoP with the nonce dance, token cached."""
from __future__ import annotations

import httpx

from conformance.auth import HelseIdAuth
from tests.security.conftest import HTTP, TLS, ORG_OSLO, READ, SecurePlatform


def test_metadata_is_public(secure_platform: SecurePlatform) -> None:
    # The CapabilityStatement is how a client learns the API; FHIR servers serve it without a token.
    response = HTTP.get(f"{secure_platform.fhir()}/metadata")
    assert response.status_code == 200
    assert response.json()["resourceType"] == "CapabilityStatement"


def test_discovery_and_jwks(secure_platform: SecurePlatform) -> None:
    discovery = HTTP.get(f"{secure_platform.issuer}/.well-known/openid-configuration").json()
    assert discovery["issuer"] == secure_platform.issuer
    assert discovery["token_endpoint"] == secure_platform.token_endpoint
    assert discovery["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert "ES256" in discovery["dpop_signing_alg_values_supported"]
    jwks = HTTP.get(discovery["jwks_uri"]).json()
    assert jwks["keys"][0]["kty"] == "RSA" and "d" not in jwks["keys"][0]


def test_patient_read_and_search_with_a_proper_token(secure_platform: SecurePlatform, patient: dict) -> None:
    config = secure_platform.register(scopes=READ)
    auth = HelseIdAuth(config, purpose_of_use="TREAT")
    with httpx.Client(verify=TLS, auth=auth) as client:
        read = client.get(f"{secure_platform.fhir()}/Patient/{patient['id']}")
        assert read.status_code == 200, read.text
        assert read.json()["id"] == patient["id"]
        fnr = patient["identifier"][0]
        search = client.get(f"{secure_platform.fhir()}/Patient",
                            params={"identifier": f"{fnr['system']}|{fnr['value']}"})
        assert search.status_code == 200, search.text
        assert [e["resource"]["id"] for e in search.json()["entry"]] == [patient["id"]]
        token = auth.access_token(client)
    # One token for both calls, bound to the DPoP key, carrying HelseID's claims.
    import base64, json
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["cnf"]["jkt"] == auth.dpop_key.thumbprint()
    assert claims["helseid://claims/client/claims/orgnr_parent"] == ORG_OSLO
    assert claims["helseid://claims/client/claims/client_tenancy"] == "single-tenant"
    assert claims["authorization_details"][0]["care_relationship"]["purpose_of_use"]["code"] == "TREAT"
    assert sorted(claims["scope"]) == sorted(READ)


def test_first_token_call_gets_a_nonce_then_succeeds(secure_platform: SecurePlatform) -> None:
    config = secure_platform.register()
    seen: list[tuple[str, int]] = []
    with httpx.Client(verify=TLS, auth=HelseIdAuth(config),
                      event_hooks={"response": [lambda r: seen.append((r.request.url.path, r.status_code))]}) as client:
        assert client.get(f"{secure_platform.fhir()}/Patient/none").status_code == 404
    assert seen == [("/helseid/.well-known/openid-configuration", 200), ("/helseid/connect/token", 400), ("/helseid/connect/token", 200), ("/0301/fhir/Patient/none", 404)]


def test_purpose_of_use_and_caller_reach_the_audit_log(secure_platform: SecurePlatform, patient: dict) -> None:
    config = secure_platform.register(scopes=READ)
    with httpx.Client(verify=TLS, auth=HelseIdAuth(config, purpose_of_use="COC")) as client:
        assert client.get(f"{secure_platform.fhir()}/Patient/{patient['id']}").status_code == 200
        trail = client.get(f"{secure_platform.fhir()}/AuditEvent", params={"patient": f"Patient/{patient['id']}"})
    assert trail.status_code == 200, trail.text
    mine = [e["resource"] for e in trail.json().get("entry", [])
            if any(a["who"].get("identifier", {}).get("value") == config.client_id for a in e["resource"]["agent"])]
    assert mine, "the read was not audited under the client's id"
    event = mine[0]
    assert event["purposeOfEvent"][0]["coding"][0]["code"] == "COC"
    assert {"system": "urn:oid:2.16.578.1.12.4.1.4.101", "value": ORG_OSLO} in \
        [{k: a["who"]["identifier"][k] for k in ("system", "value")} for a in event["agent"] if "identifier" in a["who"]]


def test_platform_routes_enforce_without_the_safety_net(tmp_path) -> None:
    """The routes call `authorize` themselves; `protect_fhir_api` is only a safety net."""
    from mock_platform import PlatformConfig, create_app, start_in_thread
    app = create_app(PlatformConfig(database=str(tmp_path / "p.sqlite3"), auth="helseid",
                                    extra={"TENANT_ORGANISATIONS": {"0301": [ORG_OSLO]}}))
    with start_in_thread(app) as server:
        platform = SecurePlatform(server.url, app)
        assert HTTP.get(f"{platform.fhir()}/Patient/x").status_code == 401
        assert HTTP.post(platform.fhir(), json={"resourceType": "Bundle", "type": "transaction", "entry": []}
                         ).status_code == 401
        with httpx.Client(verify=TLS, auth=HelseIdAuth(platform.register())) as client:
            assert client.get(f"{platform.fhir()}/Patient/x").status_code == 404


def test_an_unknown_auth_mode_never_falls_open(tmp_path) -> None:
    from mock_platform import PlatformConfig, create_app, start_in_thread
    app = create_app(PlatformConfig(database=str(tmp_path / "p.sqlite3"), auth="none"))
    with start_in_thread(app) as server:
        response = HTTP.get(f"{server.url}/0301/fhir/Patient/x")
    assert response.status_code == 401
    assert "Unknown AUTH_MODE" in response.json()["issue"][0]["details"]["text"]
