"""HelseID at the target's FHIR API: each broken token kind of the sandbox's test-token service is
refused (C1), valid tokens without the grant are refused (C2), and the API is served over TLS (C6)."""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import httpx
import pytest

from conformance.auth.testtokens import EXPECTED, BrokenToken, fetch
from conformance.checks import fail, requirement

# The kinds and the answer a conformant server gives come from the client library that fetches
# them (conformance.auth.testtokens): 401 for a token that is not valid, 403 for one without the grant.
AUTHENTICATION = [k for k, status in EXPECTED.items() if status == 401]
GRANT = [k for k, status in EXPECTED.items() if status == 403]


def _probe_ref(ground_truth) -> str:
    patient = ground_truth.patients(1)
    return f"Patient/{patient[0]['id']}" if patient else "metadata"


def _broken(helseid_url: str | None, target_url: str, ref: str, kind: str) -> BrokenToken:
    if not helseid_url:
        pytest.skip("not applicable: no HelseID test-token service configured (--helseid-url)")
    with httpx.Client(timeout=15) as client:
        try:
            return fetch(client, helseid_url, kind, "GET", f"{target_url}/{ref}")
        except httpx.HTTPError as error:
            pytest.fail(f"the sandbox's test-token service at {helseid_url} did not issue a {kind} token: {error}")


def _check_refused(target: httpx.Client, ref: str, headers: dict, what: str, expected: int | None = None) -> None:
    response = target.get(ref, headers=headers)
    if response.status_code not in (401, 403):
        fail(f"GET [base]/{ref} with {what} answered HTTP {response.status_code}; it must be refused.",
             "Verify every HelseID access token: signature against HelseID's JWKS, iss, aud, exp/nbf, "
             "scope, organisation and the DPoP binding (cnf.jkt), and answer 401/403 with an OperationOutcome.")
    if expected and response.status_code != expected:
        fail(f"GET [base]/{ref} with {what} was refused with HTTP {response.status_code}, not {expected}.",
             "Answer 401 for a token that is not valid and 403 for a valid token without the grant "
             "(RFC 6750 §3.1).")
    if response.status_code == 401 and "WWW-Authenticate" not in response.headers:
        fail(f"The 401 answer to {what} has no WWW-Authenticate header.",
             'Answer 401 with WWW-Authenticate: DPoP error="invalid_token", error_description="…".')


@requirement("SK-SEC-001")
def test_refuses_request_without_token(target_unauthenticated: httpx.Client, helseid_url, ground_truth) -> None:
    if not helseid_url:
        pytest.skip("not applicable: the target was not declared as protected by HelseID (--helseid-url)")
    _check_refused(target_unauthenticated, _probe_ref(ground_truth), {}, "no Authorization header")


@requirement("SK-SEC-001")
@pytest.mark.parametrize("kind", AUTHENTICATION)
def test_refuses_broken_token(target_unauthenticated: httpx.Client, target_url: str, helseid_url, ground_truth,
                              kind: str) -> None:
    ref = _probe_ref(ground_truth)
    token = _broken(helseid_url, target_url, ref, kind)
    _check_refused(target_unauthenticated, ref, token.headers(), f"a {kind} token", EXPECTED[kind])


@requirement("SK-SEC-002")
@pytest.mark.parametrize("kind", GRANT)
def test_refuses_token_without_grant(target_unauthenticated: httpx.Client, target_url: str, helseid_url,
                                     ground_truth, kind: str) -> None:
    ref = _probe_ref(ground_truth)
    token = _broken(helseid_url, target_url, ref, kind)
    _check_refused(target_unauthenticated, ref, token.headers(), f"a token with the {kind}", EXPECTED[kind])


@requirement("SK-SEC-003")
def test_target_uses_tls(target_url: str) -> None:
    host = urlsplit(target_url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if urlsplit(target_url).scheme != "https" and not loopback:
        fail(f"The target {target_url} is served without TLS.",
             "Serve the FHIR API over HTTPS only (TLS 1.2 or newer) and refuse plaintext.")
