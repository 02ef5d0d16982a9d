"""Several platform processes on one database behave as one HelseID and one resource server:
keys, clients, nonces and replay caches live in the database, not in a process."""
from __future__ import annotations

import time

import httpx

from conformance.auth import HelseIdAuth, dpop
from mock_platform import PlatformConfig, create_app, start_in_thread
from mock_platform.security import protect_fhir_api
from tests.security.conftest import HTTP, TLS, ORG_OSLO, SecurePlatform


def _app(database: str):
    app = create_app(PlatformConfig(database=database, tenants=("0301",), auth="helseid",
                                    extra={"TENANT_ORGANISATIONS": {"0301": [ORG_OSLO]}}))
    protect_fhir_api(app)
    return app


def test_two_instances_on_one_database_agree(tmp_path) -> None:
    database = str(tmp_path / "shared.sqlite3")
    with start_in_thread(_app(database)) as a, start_in_thread(_app(database)) as b:
        platform_a, platform_b = SecurePlatform(a.url, None), SecurePlatform(b.url, None)
        # The same signing key on both.
        assert HTTP.get(f"{platform_a.issuer}/jwks").json() == HTTP.get(f"{platform_b.issuer}/jwks").json()
        # A client registered on A gets a token from A; B's API (same host name, other port) accepts it
        # only when issued for B's issuer, so use one issuer: configure the client for A and call B.
        config = platform_a.register()
        auth = HelseIdAuth(config)
        with httpx.Client(verify=TLS) as client:
            token = auth.access_token(client)
            url_b = f"{platform_b.fhir()}/Patient/none"
            proof = dpop.proof(auth.dpop_key, "GET", url_b, access_token=token)
            first = client.get(url_b, headers={"Authorization": f"DPoP {token}", "DPoP": proof})
            # B refuses A's issuer: each instance is its own issuer unless HELSEID_ISSUER is shared.
            assert first.status_code == 401 and "issuer" in first.json()["issue"][0]["details"]["text"]


def test_shared_issuer_and_replay_cache_across_instances(tmp_path) -> None:
    database = str(tmp_path / "shared.sqlite3")
    apps = [_app(database), _app(database)]
    with start_in_thread(apps[0]) as a, start_in_thread(apps[1]) as b:
        for app in apps:   # behind one load balancer both instances have one public issuer
            app.config["HELSEID_ISSUER"] = f"{a.url}/helseid"
        platform_a = SecurePlatform(a.url, apps[0])
        auth = HelseIdAuth(platform_a.register())
        with httpx.Client(verify=TLS) as client:
            token = auth.access_token(client)
            url_a, url_b = f"{a.url}/0301/fhir/Patient/none", f"{b.url}/0301/fhir/Patient/none"
            assert client.get(url_b, headers={"Authorization": f"DPoP {token}", "DPoP": dpop.proof(
                auth.dpop_key, "GET", url_b, access_token=token)}).status_code == 404
            # A proof used at A, replayed at B (sent with A's Host header, as a load balancer would):
            # both instances claim jtis in the one database, so B knows it was used.
            proof = dpop.proof(auth.dpop_key, "GET", url_a, access_token=token)
            assert client.get(url_a, headers={"Authorization": f"DPoP {token}", "DPoP": proof}).status_code == 404
            replay = client.get(url_b, headers={"Authorization": f"DPoP {token}", "DPoP": proof,
                                                "Host": url_a.split("/")[2]})
            assert replay.status_code == 401 and "already used" in replay.text


def test_client_renews_a_token_before_it_expires(secure_platform: SecurePlatform) -> None:
    auth = HelseIdAuth(secure_platform.register())
    token_calls: list[int] = []
    hooks = {"response": [lambda r: token_calls.append(r.status_code) if r.url.path.endswith("/token") else None]}
    with httpx.Client(verify=TLS, auth=auth, event_hooks=hooks) as client:
        assert client.get(f"{secure_platform.fhir()}/Patient/none").status_code == 404
        first = auth.access_token(client)
        assert client.get(f"{secure_platform.fhir()}/Patient/none").status_code == 404
        assert token_calls == [400, 200]                       # cached: one token for both calls
        auth._expires_at = time.time() + 5                     # as if the token were about to expire
        assert client.get(f"{secure_platform.fhir()}/Patient/none").status_code == 404
        assert auth.access_token(client) != first               # never used past its margin
        assert token_calls == [400, 200, 200]                  # the nonce was remembered
