"""Generated broken tokens and proofs, and injection in search parameters (property-based, real HTTP).

Tokens are minted with the sandbox HelseID's own key (mock_platform.helseid.issuing), so that each
generated token is valid in every way but the one broken on purpose and the check for that one
thing is what refuses it. Every refusal is a 401/403 with an OperationOutcome and a
WWW-Authenticate header; nothing sent appears in the platform's logs; no injected search value
reaches another tenant's data or breaks the platform.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from joserfc import jwt

from conformance.auth import HelseIdAuth, dpop
from mock_platform.helseid import issuing, keys
from mock_platform.searchparams import registry
from mock_platform.security.proofs import MAX_JWT_CHARS
from mock_platform.security.scopes import policy
from sandbox.loop import load_cohort
from tests.security.conftest import HTTP, ORG_BERGEN, ORG_OSLO, READ, SecurePlatform, rule_of

_settings = settings(max_examples=30, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64json(obj: object) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode())


class Caller:
    """A registered client of organisation 310000000 with its DPoP key, minting tokens for it."""

    def __init__(self, platform: SecurePlatform):
        self.platform = platform
        self.config = platform.register(scopes=READ)
        self.key = dpop.generate_key()
        self.storage = platform.app.extensions["sandkasse.storage"]

    def claims(self, **changes: object) -> dict:
        claims = issuing.access_token_claims(
            issuer=self.platform.issuer, audience=policy().audience, client_id=self.config.client_id,
            client_name="fuzz", scopes=READ, parent=ORG_OSLO, child=None, tenancy="single",
            jkt=self.key.thumbprint(), authorization_details=[{
                "type": issuing.TILLITSRAMMEVERK,
                "care_relationship": {"purpose_of_use": {"code": "TREAT", "system": policy().purpose_system}}}])
        for name, value in changes.items():
            if value is _DROP:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def token(self, **changes: object) -> str:
        return issuing.sign(self.storage, self.claims(**changes))

    def proof(self, token: str, method: str = "GET", url: str | None = None, key=None, **changes: object) -> str:
        key = key or self.key
        claims = {"jti": str(uuid.uuid4()), "htm": method, "htu": dpop.htu(url or self.url),
                  "iat": int(time.time()), "ath": dpop.ath(token), **changes}
        header = {"typ": "dpop+jwt", "alg": dpop.alg_for(key), "jwk": dpop.public_jwk(key)}
        return jwt.encode(header, claims, key, algorithms=[header["alg"]])

    @property
    def url(self) -> str:
        return f"{self.platform.fhir()}/Patient/x"

    def get(self, token: str, proof: str | None = None, url: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"DPoP {token}"}
        if proof is not None:
            headers["DPoP"] = proof
        return HTTP.get(url or self.url, headers=headers)


_DROP = object()


def _refused(response: httpx.Response, status: int | tuple[int, ...] = 401, rule: str | None = None) -> None:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.text
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.headers["WWW-Authenticate"].startswith("DPoP ")
    if rule is not None:
        assert rule_of(response) == f"sandkasse-security-{rule}", response.text


@pytest.fixture(scope="module")
def caller(secure_platform: SecurePlatform) -> Caller:
    return Caller(secure_platform)


def test_the_baseline_token_and_proof_are_accepted(caller: Caller) -> None:
    token = caller.token()
    assert caller.get(token, caller.proof(token)).status_code == 404     # past every check; no such patient


def test_an_rsa_dpop_key_works_at_the_token_endpoint_and_the_api(secure_platform: SecurePlatform) -> None:
    """Found by the binding property below: an RSA jwk made every proof's header too large for the
    JOSE library's default limit, so RSA DPoP keys (allowed by HelseID) were always refused."""
    auth = HelseIdAuth(secure_platform.register(), dpop_key=dpop.generate_key("RSA"))
    with httpx.Client(auth=auth) as client:
        assert client.get(f"{secure_platform.fhir()}/Patient/x").status_code == 404


# -- the token ------------------------------------------------------------------------------------

_mutations = st.sampled_from(["flip", "truncate", "drop", "duplicate", "swap", "append", "empty"])


@_settings
@given(segment=st.integers(0, 2), mutation=_mutations, position=st.integers(0, 10_000),
       junk=st.text(alphabet="ABCxyz019-_=.+/", min_size=1, max_size=8))
def test_mutated_token_segments_are_refused(caller: Caller, segment: int, mutation: str, position: int,
                                            junk: str) -> None:
    token = caller.token()
    parts = token.split(".")
    part = parts[segment]
    at = position % len(part)
    if mutation == "flip":
        part = part[:at] + ("A" if part[at] != "A" else "B") + part[at + 1:]
    elif mutation == "truncate":
        part = part[:at]
    elif mutation == "append":
        part = part + junk
    elif mutation == "empty":
        part = ""
    if mutation == "drop":
        parts.pop(segment)
    elif mutation == "duplicate":
        parts.insert(segment, parts[segment])
    elif mutation == "swap":
        parts[0], parts[1] = parts[1], parts[0]
    else:
        parts[segment] = part
    broken = ".".join(parts)
    # base64url's last character may carry unused bits: a change there can decode to the same bytes,
    # which is the same token, not a broken one.
    assume(_decoded(broken) != _decoded(token))
    _refused(caller.get(broken, caller.proof(broken)), rule="token")


def _decoded(token: str) -> list[bytes] | str:
    try:
        return [base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)) for p in token.split(".")]
    except ValueError:
        return token


_past = st.integers(11, 10**7)        # beyond the 10 s leeway


@_settings
@given(broken=st.one_of(
    _past.map(lambda s: ("expired", {"exp": int(time.time()) - s})),
    _past.map(lambda s: ("nbf in the future", {"nbf": int(time.time()) + s})),
    _past.map(lambda s: ("iat in the future", {"iat": int(time.time()) + s})),
    st.sampled_from([("exp missing", {"exp": _DROP}), ("exp not a number", {"exp": "tomorrow"}),
                     ("nbf not a number", {"nbf": [1]}), ("no cnf", {"cnf": _DROP}), ("cnf not an object", {"cnf": "x"}),
                     ("empty jkt", {"cnf": {"jkt": ""}}), ("another issuer", {"iss": "https://helseid-sts.nhn.no"}),
                     ("issuer with a slash", {"iss": "{issuer}/"}), ("no audience", {"aud": _DROP}),
                     ("another audience", {"aud": ["nhn:annet-api"]}), ("audience null", {"aud": None})])))
def test_tokens_with_one_broken_claim_are_refused(caller: Caller, broken: tuple[str, dict]) -> None:
    _, changes = broken
    changes = {k: (v.replace("{issuer}", caller.platform.issuer) if isinstance(v, str) else v)
               for k, v in changes.items()}
    token = caller.token(**changes)
    _refused(caller.get(token, caller.proof(token)), rule="token")


@_settings
@given(scope=st.lists(st.sampled_from([*policy().all_scopes(), "nhn:annet-api/read", "openid", ""]), max_size=3))
def test_a_token_without_a_read_scope_for_the_service_is_forbidden(caller: Caller, scope: list[str]) -> None:
    assume(not {f"{policy().audience}/{s}.read" for s in policy().services} & set(scope))
    token = caller.token(scope=scope)
    _refused(caller.get(token, caller.proof(token)), 403, rule="scope")


@pytest.mark.parametrize("secret", ["jwk", "pem", "n"])
def test_hs256_signed_with_helseid_public_key_is_refused(caller: Caller, secret: str) -> None:
    """The classic key confusion: a verifier that lets the token's alg choose would take the public
    key (which everyone has) as an HMAC secret."""
    public = keys.signing_key(caller.storage).as_dict(private=False)
    material = {"jwk": json.dumps(public).encode(), "n": public["n"].encode(),
                "pem": keys.signing_key(caller.storage).as_pem(private=False)}[secret]
    head = f"{_b64json({'alg': 'HS256', 'typ': 'at+jwt', 'kid': public.get('kid', '')})}.{_b64json(caller.claims())}"
    token = f"{head}.{_b64(hmac.new(material, head.encode(), hashlib.sha256).digest())}"
    response = caller.get(token, caller.proof(token))
    _refused(response, rule="token")
    assert "alg 'HS256' is not accepted" in response.text


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "", "RS256 ", "PS256", "ES256"])
def test_other_algorithms_are_refused(caller: Caller, alg: str) -> None:
    token = f"{_b64json({'alg': alg, 'typ': 'at+jwt'})}.{_b64json(caller.claims())}."
    _refused(caller.get(token, caller.proof(token)), rule="token")


@settings(max_examples=8, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(MAX_JWT_CHARS + 1, 60_000), where=st.sampled_from(["token", "proof"]))
def test_huge_tokens_and_proofs_are_refused_unread(caller: Caller, size: int, where: str) -> None:
    token = caller.token()
    if where == "token":
        huge = token + "A" * (size - len(token))
        response = caller.get(huge, caller.proof(token))
    else:
        response = caller.get(token, caller.proof(token) + "A" * size)
    _refused(response, rule="token" if where == "token" else "dpop-proof")
    assert "refused unread" in response.text


def test_duplicated_authorization_and_dpop_headers_are_refused(caller: Caller) -> None:
    token = caller.token()
    two_proofs = HTTP.get(caller.url, headers=[("Authorization", f"DPoP {token}"), ("DPoP", caller.proof(token)),
                                               ("DPoP", caller.proof(token))])
    _refused(two_proofs, rule="dpop-proof")
    assert "more than one DPoP header" in two_proofs.text
    two_tokens = HTTP.get(caller.url, headers=[("Authorization", f"DPoP {token}"), ("Authorization", f"DPoP {token}"),
                                               ("DPoP", caller.proof(token))])
    _refused(two_tokens, rule="token")
    assert "more than one value" in two_tokens.text


# -- the proof ------------------------------------------------------------------------------------

def test_a_replayed_proof_is_refused(caller: Caller) -> None:
    token = caller.token()
    proof = caller.proof(token)
    assert caller.get(token, proof).status_code == 404
    replayed = caller.get(token, proof)
    _refused(replayed, rule="dpop-proof")
    assert "already used" in replayed.text


def test_a_replayed_client_assertion_is_refused(secure_platform: SecurePlatform) -> None:
    config = secure_platform.register()
    client_key, dpop_key = config.private_key(), dpop.generate_key()
    endpoint = secure_platform.token_endpoint
    first = HTTP.post(endpoint, headers={"DPoP": dpop.proof(dpop_key, "POST", endpoint)}, data={})
    nonce = first.headers["DPoP-Nonce"]
    assertion = dpop.client_assertion(client_key, config.client_id, secure_platform.issuer)
    form = {"grant_type": "client_credentials", "client_assertion_type": dpop.ASSERTION_TYPE,
            "client_assertion": assertion, "scope": " ".join(config.scopes)}
    ok = HTTP.post(endpoint, data=form, headers={"DPoP": dpop.proof(dpop_key, "POST", endpoint, nonce=nonce)})
    assert ok.status_code == 200, ok.text
    again = HTTP.post(endpoint, data=form, headers={"DPoP": dpop.proof(dpop_key, "POST", endpoint, nonce=nonce)})
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"
    assert "replayed" in again.json()["error_description"]


@_settings
@given(change=st.sampled_from(["method", "path", "host", "port", "scheme", "case", "slash", "tenant"]),
       method=st.sampled_from(["POST", "PUT", "DELETE", "PATCH", "get", "HEAD"]))
def test_a_proof_for_another_request_is_refused(caller: Caller, change: str, method: str) -> None:
    token = caller.token()
    url = caller.url
    other = {"path": url.replace("/Patient/x", "/Patient/y"), "host": url.replace("127.0.0.1", "localhost"),
             "port": url.replace(f":{urlsplit(url).port}/", f":{urlsplit(url).port % 65535 + 1}/"), "scheme": url.replace("http:", "https:"),
             "case": url.replace("/Patient/", "/patient/"), "slash": url + "/",
             "tenant": url.replace("/0301/", "/4601/")}.get(change, url)
    proof = caller.proof(token, method=method if change == "method" else "GET", url=other)
    _refused(caller.get(token, proof), rule="dpop-proof")


@_settings
@given(iat=st.one_of(st.integers(61, 10**7).map(lambda s: int(time.time()) - s),
                     st.integers(11, 10**7).map(lambda s: int(time.time()) + s),
                     st.sampled_from(["now", None, [1], 1e308])))
def test_a_proof_outside_its_time_window_is_refused(caller: Caller, iat) -> None:
    token = caller.token()
    _refused(caller.get(token, caller.proof(token, iat=iat)), rule="dpop-proof")


@_settings
@given(kind=st.sampled_from(["EC", "EC", "RSA"]))
def test_a_proof_by_another_key_than_cnf_jkt_is_refused(caller: Caller, kind: str) -> None:
    token = caller.token()
    response = caller.get(token, caller.proof(token, key=_other_key(kind)))
    _refused(response, rule="dpop-binding")


_KEYS: dict[str, object] = {}


def _other_key(kind: str):
    # RSA keys take ~0.1 s to make: one per kind is enough, what matters is that it is not the bound one.
    if kind not in _KEYS:
        _KEYS[kind] = dpop.generate_key(kind)
    return _KEYS[kind]


@_settings
@given(ath=st.one_of(st.none(), st.text(max_size=50), st.just(dpop.ath("another token"))))
def test_a_proof_for_another_token_is_refused(caller: Caller, ath) -> None:
    token = caller.token()
    _refused(caller.get(token, caller.proof(token, ath=ath)), rule="dpop-proof")


# -- nothing that was sent is logged --------------------------------------------------------------

def test_no_fuzzed_token_or_proof_appears_in_the_logs(caller: Caller, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sent: list[str] = []
    for changes in ({}, {"exp": 1}, {"iss": "https://helseid-sts.nhn.no"}, {"cnf": _DROP}):
        token = caller.token(**changes)
        for proof in (caller.proof(token), caller.proof(token, htm="POST"), caller.proof(token, key=_other_key("EC"))):
            caller.get(token, proof)
            sent += [token, proof]
    caller.get(sent[0] + "A" * (MAX_JWT_CHARS + 1), sent[1])
    records = [r for r in caplog.records if r.name.startswith(("mock_platform", "werkzeug"))]
    assert any("refused" in r.getMessage() for r in records)        # the refusals were logged
    logged = "\n".join(r.getMessage() + "\n" + (r.exc_text or "") for r in caplog.records) + caplog.text
    for secret in sent:
        assert secret not in logged
        assert secret.rsplit(".", 1)[1] not in logged               # not even the signature


# -- injection in search parameters ---------------------------------------------------------------

INJECTIONS = [
    "' OR '1'='1", "1' OR 1=1 --", "x'; DROP TABLE resources; --", "%' --", "\" OR \"\"=\"", "') UNION SELECT body FROM "
    "resources --", "1 OR 1=1", "*", "%", "_", "%%", "\\", "' || (SELECT tenant FROM tenants) || '",
    "Patient.name.where(true)", "%resource", "iif(true, 'a', 'b')", "$this", "Observation.subject.resolve()",
    "../4601/fhir/Patient", "..%2F..%2F4601%2Ffhir%2FPatient", "/4601/fhir/Patient/x", "Patient/../../4601",
    "4601|x", "http://x|' OR 1=1 --", "|' OR 1=1", "Patient/' OR 1=1 --", "ge' OR 1=1", "eq2025-01-01' OR '1'='1",
]


@pytest.fixture(scope="module")
def other_tenant_data(secure_platform: SecurePlatform, small_cohort: Path) -> set[str]:
    """The cohort stored in kommune 4601 by a Bergen client; 0301, where the fuzzing happens, has none."""
    writer = HelseIdAuth(secure_platform.register(scopes=policy().all_scopes(), organisation=ORG_BERGEN))
    load_cohort(secure_platform.fhir("4601"), small_cohort, auth=writer)
    return {json.loads(line)["id"] for line in (small_cohort / "Patient.ndjson").read_text().splitlines()}


@pytest.fixture(scope="module")
def searcher(secure_platform: SecurePlatform) -> HelseIdAuth:
    return HelseIdAuth(secure_platform.register(scopes=policy().all_scopes()))


_params = st.sampled_from(sorted({(t, p) for t, info in registry().items()
                                  for p in [*info.params, "_id", "_lastUpdated", "_sort", "_include", "_revinclude"]}))


@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(target=_params, value=st.sampled_from(INJECTIONS) | st.text(max_size=30),
       modifier=st.sampled_from(["", "", ":exact", ":missing", ":contains"]), post=st.booleans())
def test_injection_in_search_parameters_finds_nothing_and_breaks_nothing(
        secure_platform: SecurePlatform, other_tenant_data: set[str], searcher: HelseIdAuth,
        target: tuple[str, str], value: str, modifier: str, post: bool) -> None:
    rtype, param = target
    with httpx.Client(auth=searcher, timeout=30) as client:
        base = secure_platform.fhir()
        if post:
            response = client.post(f"{base}/{rtype}/_search", data={param + modifier: value})
        else:
            response = client.get(f"{base}/{rtype}", params={param + modifier: value})
    assert response.status_code < 500, response.text
    body = response.json()
    if response.status_code >= 400:
        assert body["resourceType"] == "OperationOutcome"
        return
    assert response.status_code == 200 and body["resourceType"] == "Bundle", response.text
    matches = [e for e in body.get("entry", []) if e.get("search", {}).get("mode") != "outcome"]
    assert body["total"] == 0 and not matches, f"{rtype}?{param}{modifier}={value!r} found {body['total']} in 0301"
    assert "/4601/" not in response.text and not any(rid in response.text for rid in other_tenant_data)


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rid=st.sampled_from(INJECTIONS), rtype=st.sampled_from(sorted(registry())))
def test_injection_in_the_path_never_reaches_another_tenant(secure_platform: SecurePlatform,
                                                            other_tenant_data: set[str], searcher: HelseIdAuth,
                                                            rid: str, rtype: str) -> None:
    with httpx.Client(auth=searcher, timeout=30) as client:
        for suffix in ("", "/_history"):
            response = client.get(f"{secure_platform.fhir()}/{rtype}/{quote(rid, safe='')}{suffix}")
            assert response.status_code in (400, 401, 403, 404), response.text
            assert response.json()["resourceType"] == "OperationOutcome"
            assert not any(pid in response.text for pid in other_tenant_data)
