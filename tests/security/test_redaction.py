"""Keys and tokens never appear in logs or evidence: the platform's logs during a full happy-path
and refusal run contain none of them, and the shared redaction helper removes each kind."""
from __future__ import annotations

import logging
from urllib.parse import parse_qs

import httpx
import pytest

from conformance.auth import HelseIdAuth, dpop, redact
from conformance.auth.redaction import MARK, redact_text
from mock_platform.security.redaction import RedactingFilter
from tests.security.conftest import HTTP, TLS, WRITE, READ, SecurePlatform


def _secrets_of_a_full_run(platform: SecurePlatform, patient: dict) -> list[str]:
    """Run happy path and refusals; return every secret that crossed the wire."""
    config = platform.register(scopes=READ + WRITE)
    secrets = [config.private_jwk["d"]]
    sent: list[httpx.Request] = []
    auth = HelseIdAuth(config)
    with httpx.Client(verify=TLS, auth=auth, event_hooks={"request": [sent.append]}) as client:
        assert client.get(f"{platform.fhir()}/Patient/{patient['id']}").status_code == 200
        assert client.get(f"{platform.fhir('4601')}/Patient/{patient['id']}").status_code == 403
        token = auth.access_token(client)
    with httpx.Client(verify=TLS) as raw:
        url = f"{platform.fhir()}/Patient/{patient['id']}"
        proof = dpop.proof(auth.dpop_key, "GET", url, access_token=token)
        for headers in ({"Authorization": f"DPoP {token}", "DPoP": proof},      # ok
                        {"Authorization": f"DPoP {token}", "DPoP": proof},      # replayed
                        {"Authorization": f"Bearer {token}"},                   # wrong scheme
                        {"Authorization": f"DPoP {token}x", "DPoP": proof}):    # broken signature
            raw.get(url, headers=headers)
        bad = raw.post(f"{platform.issuer}/test-tokens", json={"kind": "bad-signature", "htm": "GET", "htu": url}).json()
        raw.get(url, headers={"Authorization": f"DPoP {bad['access_token']}", "DPoP": bad["dpop_proof"]})
    secrets += [token, proof, bad["access_token"], bad["dpop_proof"]]
    for request in sent:
        if "DPoP" in request.headers:
            secrets.append(request.headers["DPoP"])
        if request.url.path.endswith("/connect/token"):
            secrets += parse_qs(request.content.decode()).get("client_assertion", [])
    return secrets


def test_platform_logs_contain_no_secrets(secure_platform: SecurePlatform, patient: dict,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = _secrets_of_a_full_run(secure_platform, patient)
    records = [r for r in caplog.records if r.name.startswith(("mock_platform", "werkzeug"))]
    assert any("refused" in r.getMessage() for r in records)   # the platform did log the refusals
    logged = "\n".join(r.getMessage() + "\n" + (r.exc_text or "") for r in caplog.records) + caplog.text
    assert len(secrets) >= 8
    for secret in secrets:
        assert secret not in logged
        # Not even the signature part of a JWT (the part that lets it be replayed).
        if secret.count(".") == 2 and secret.rsplit(".", 1)[1]:
            assert secret.rsplit(".", 1)[1] not in logged


def test_filter_redacts_messages_arguments_and_tracebacks(secure_platform: SecurePlatform,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    key = dpop.generate_key()
    proof = dpop.proof(key, "GET", "http://localhost/x")
    logger = secure_platform.app.logger
    assert any(isinstance(f, RedactingFilter) for f in logger.filters)
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("request headers: %s", {"Authorization": f"DPoP {proof}", "DPoP": proof})
        try:
            raise ValueError(f"could not parse client_assertion={proof}")
        except ValueError:
            logger.exception("token endpoint failed")
    assert proof not in caplog.text
    assert proof.split(".")[2] not in caplog.text
    assert MARK in caplog.text and "token endpoint failed" in caplog.text and "ValueError" in caplog.text


def test_redact_structures() -> None:
    key = dpop.generate_key()
    private = key.as_dict(private=True)
    token = dpop.client_assertion(key, "c", "http://i")
    evidence = {"request": {"headers": httpx.Headers({"Authorization": f"DPoP {token}", "Accept": "application/fhir+json"}),
                            "url": f"http://x/Patient?_token={token}"},
                "config": {"client_id": "c", "private_jwk": private},
                "key": private, "response": {"access_token": token, "token_type": "DPoP", "expires_in": 300},
                "pem": "-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----"}
    clean = redact(evidence)
    text = repr(clean)
    assert token not in text and private["d"] not in text and "MIGHAgEA" not in text
    assert clean["request"]["headers"]["accept"] == "application/fhir+json"        # the rest stays readable
    assert clean["key"]["x"] == private["x"] and clean["key"]["d"] == MARK          # public part kept
    assert clean["response"]["token_type"] == "DPoP" and clean["response"]["expires_in"] == 300
    assert clean["config"]["client_id"] == "c"


def test_redact_text_keeps_the_scheme() -> None:
    assert redact_text("Authorization: DPoP abc.def.ghi") == f"Authorization: DPoP {MARK}"
    assert redact_text('{"DPoP": "eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ.c2ln"}') == f'{{"DPoP": "{MARK}"}}'
    assert redact_text("nothing secret here: Patient/123") == "nothing secret here: Patient/123"
