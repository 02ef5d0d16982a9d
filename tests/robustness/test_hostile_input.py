"""Hostile input, generated, sent over real HTTP to every route of the platform.

Every answer must be a 4xx (or a 2xx for harmless reads) with FHIR JSON, never a 5xx or a stack
trace, and the data stored before the run must be unchanged afterwards. Routes come from the
app's own URL map, so a route added later is covered without touching this file.
"""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_platform import PlatformConfig, create_app, start_in_thread
from sandbox.loop import load_cohort
from tests.robustness.figures import record_figures
from tests.robustness.hostile import (bodies, content_types, fill, hostile_text, methods, query, send_hostile,
                                      snapshot)

REQUESTS_PER_BATCH = 1300
BATCHES = 8   # 8 × 1,300 > 10,000 requests in total


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, small_cohort: Path):
    folder = tmp_path_factory.mktemp("hostile")
    app = create_app(PlatformConfig(database=str(folder / "p.sqlite3"), tenants=("0301", "4601"), auth="off-dev"))
    routes = sorted({rule.rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"})
    with start_in_thread(app) as server:
        load_cohort(f"{server.url}/0301/fhir", small_cohort)
        yield server, routes


@pytest.mark.slow
@pytest.mark.parametrize("batch", range(BATCHES))
def test_hostile_requests_never_break_the_platform(seeded, small_cohort: Path, batch: int) -> None:
    server, routes = seeded
    before = snapshot(server.url, small_cohort)
    counts = {"requests": 0, "failures": 0}
    client = httpx.Client(base_url=server.url, timeout=10.0)

    @settings(max_examples=REQUESTS_PER_BATCH, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(route=st.sampled_from(routes), values=st.lists(hostile_text, min_size=3, max_size=3),
           method=methods, body=bodies, content_type=content_types, params=query, salt=st.just(batch))
    def send(route, values, method, body, content_type, params, salt) -> None:
        url = fill(route, values)
        counts["requests"] += 1
        try:
            send_hostile(client, method, url, params, body, content_type)
        except AssertionError:
            counts["failures"] += 1
            raise

    try:
        send()
    finally:
        client.close()
        record_figures(f"hostile-{batch}", {**counts, "routes": routes})
    assert snapshot(server.url, small_cohort) == before, "hostile requests changed stored data"


def test_oversized_body_is_refused_early(seeded) -> None:
    server, _ = seeded
    huge = b'{"resourceType":"Bundle","type":"transaction","entry":[' + b" " * (20 * 1024 * 1024) + b"]}"
    response = httpx.post(f"{server.url}/0301/fhir", content=huge,
                          headers={"Content-Type": "application/fhir+json"}, timeout=30.0)
    assert response.status_code == 413
    assert response.json()["resourceType"] == "OperationOutcome"
