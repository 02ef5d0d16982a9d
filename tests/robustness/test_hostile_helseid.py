"""Hostile input with HelseID enforced, over real HTTP to every route.

Unauthenticated: every route answers a 4xx with an OperationOutcome (WWW-Authenticate on every
401), never a 5xx, and no route that the OpenAPI description protects answers 2xx. Authenticated
with a valid DPoP-bound token and a fresh proof per request (conformance.auth.HelseIdAuth), so
the hostile bodies and parameters get past the security checks into the handlers: still never a
5xx, and refused requests change nothing.
"""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.auth import HelseIdAuth
from mock_platform import PlatformConfig, create_app, start_in_thread
from mock_platform.openapi import describe
from mock_platform.security.scopes import policy
from sandbox.loop import load_cohort
from tests.robustness.figures import record_figures
from tests.robustness.hostile import (bodies, content_types, fill, fingerprint, hostile_text, methods, query,
                                      send_hostile, snapshot)
from tests.security.conftest import ORG_OSLO, READ, SecurePlatform

REQUESTS_PER_BATCH = 600
BATCHES = 2          # per kind (anonymous, authenticated): 2 × 2 × 600 = 2,400 requests


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory, small_cohort: Path):
    folder = tmp_path_factory.mktemp("hostile-helseid")
    app = create_app(PlatformConfig(database=str(folder / "p.sqlite3"), tenants=("0301", "4601"), auth="helseid",
                                    extra={"TENANT_ORGANISATIONS": {"0301": [ORG_OSLO]}}))
    with start_in_thread(app) as server:
        platform = SecurePlatform(server.url, app)
        load_cohort(platform.fhir(), small_cohort, auth=HelseIdAuth(platform.register(scopes=policy().all_scopes())))
        yield platform


def _routes(app) -> dict[str, bool]:
    """Each route of the url_map, and whether every method of it needs credentials (from the
    platform's own OpenAPI description: no empty security requirement)."""
    protected: dict[str, bool] = {}
    for item in describe(app)["paths"].values():
        for operation in item.values():
            needs = bool(operation["security"]) and {} not in operation["security"]
            rule = operation["x-flask-rule"]
            protected[rule] = protected.get(rule, True) and needs
    return protected


def _run(platform: SecurePlatform, batch: int, auth: httpx.Auth | None, counts: dict, on_answer) -> None:
    """Send the batch's hostile requests; counts["requests"] and ["failures"] are kept here."""
    routes = sorted(_routes(platform.app))
    storage = platform.app.extensions["sandkasse.storage"]
    client = httpx.Client(base_url=platform.url, timeout=10.0, auth=auth)

    @settings(max_examples=REQUESTS_PER_BATCH, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(route=st.sampled_from(routes), values=st.lists(hostile_text, min_size=3, max_size=3),
           method=methods, body=bodies, content_type=content_types, params=query, real_tenant=st.booleans(),
           salt=st.just(batch))
    def send(route, values, method, body, content_type, params, real_tenant, salt) -> None:
        # A real tenant half of the time, so that requests get past the tenant and organisation checks.
        url = fill(route, ["0301", *values] if real_tenant and "<tenant>" in route else values)
        counts["requests"] += 1
        state = fingerprint(storage)
        try:
            response = send_hostile(client, method, url, params, body, content_type)
            if response.status_code >= 400:
                assert fingerprint(storage) == state, f"{method} {url}: refused, yet the store changed"
            on_answer(route, method, url, response)
        except AssertionError:
            counts["failures"] += 1
            raise

    try:
        send()
    finally:
        client.close()


@pytest.mark.slow
@pytest.mark.parametrize("batch", range(BATCHES))
def test_unauthenticated_hostile_requests_are_refused(secured: SecurePlatform, batch: int) -> None:
    protected = _routes(secured.app)
    counts = {"requests": 0, "failures": 0}

    def on_answer(route: str, method: str, url: str, response: httpx.Response) -> None:
        if response.status_code == 401 and not response.headers.get("content-type", "").startswith("text/html"):
            assert "WWW-Authenticate" in response.headers, f"{method} {url}: 401 without WWW-Authenticate"
        if protected[route] and method != "OPTIONS":
            # (werkzeug's redirect of an empty path segment, //, is a 308 and carries nothing)
            assert not 200 <= response.status_code < 300, \
                f"{method} {url} answered {response.status_code} without credentials"

    try:
        _run(secured, batch, None, counts, on_answer)
    finally:
        record_figures(f"hostile-helseid-anonymous-{batch}", _named(counts, "anonymous"))


@pytest.mark.slow
@pytest.mark.parametrize("batch", range(BATCHES))
def test_authenticated_hostile_requests_reach_the_handlers_and_never_break_them(
        secured: SecurePlatform, small_cohort: Path, batch: int) -> None:
    reader = HelseIdAuth(secured.register(scopes=READ))
    counts = {"requests": 0, "past security": 0, "failures": 0}

    def on_answer(route: str, method: str, url: str, response: httpx.Response) -> None:
        if not (response.status_code in (401, 403) and "sandkasse-security-" in response.text):
            counts["past security"] += 1

    before = snapshot(secured.url, small_cohort, auth=reader)
    try:
        _run(secured, batch, HelseIdAuth(secured.register(scopes=policy().all_scopes())), counts, on_answer)
    finally:
        record_figures(f"hostile-helseid-authenticated-{batch}", _named(counts, "authenticated"))
    assert snapshot(secured.url, small_cohort, auth=reader) == before, "hostile requests changed stored data"
    # Worthless if the fuzzed requests never got past the token checks into the handlers.
    assert counts["past security"] > REQUESTS_PER_BATCH // 4, counts


def _named(counts: dict, kind: str) -> dict:
    """The figures as printed: requests and those past security per kind; failures summed with the other runs."""
    return {("helseid " + kind + " " + k if k in ("requests", "past security") else k): v for k, v in counts.items()}
