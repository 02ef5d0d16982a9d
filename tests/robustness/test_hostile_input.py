"""Hostile input, generated, sent over real HTTP to every route of the platform.

Every answer must be a 4xx (or a 2xx for harmless reads) with FHIR JSON, never a 5xx or a stack
trace, and the data stored before the run must be unchanged afterwards. Routes come from the
app's own URL map, so a route added later is covered without touching this file.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_platform import PlatformConfig, create_app, start_in_thread
from sandbox.loop import load_cohort
from tests.robustness.figures import record_figures

REQUESTS_PER_BATCH = 1300
BATCHES = 8   # 8 × 1,300 > 10,000 requests in total
_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

hostile_text = st.one_of(
    st.text(min_size=0, max_size=40),
    st.sampled_from(["..", "../..", "%2e%2e%2f", "..%2f..%2fetc%2fpasswd", "%00", "Patient", "$validate",
                     "_history", "0301", "' OR 1=1 --", "\"; DROP TABLE resources; --", "a" * 5000,
                     "😀", "\u202e", "<script>", "${jndi:ldap://x}", "-1", "1e309", "NaN"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
resource_like = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Patient", "Bundle", "Observation", "EpisodeOfCare", "Consent", "Nope", ""])},
    optional={"id": hostile_text, "entry": json_values, "type": hostile_text, "identifier": json_values,
              "meta": json_values, "subject": json_values, "status": hostile_text})


def _deep(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    resource_like.map(lambda v: json.dumps(v).encode()),
    st.integers(1000, 20000).map(lambda d: _deep(d).encode()),
    st.just(b'{"resourceType": "Bundle", "type": "transaction", "entry": [' + b'{},' * 5000 + b'{}]}'),
)
content_types = st.sampled_from(["application/fhir+json", "application/json", "text/plain", "application/xml",
                                 "multipart/form-data", "", "application/fhir+json; charset=latin-1"])
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
query = st.dictionaries(st.sampled_from(["identifier", "patient", "subject", "code", "date", "_count", "_sort",
                                         "_include", "_revinclude", "status", "category", "_lastUpdated",
                                         "since", "wait", "bogus", "_format", "_elements"]) | hostile_text,
                        hostile_text, max_size=4)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, small_cohort: Path):
    folder = tmp_path_factory.mktemp("hostile")
    app = create_app(PlatformConfig(database=str(folder / "p.sqlite3"), tenants=("0301", "4601"), auth="off-dev"))
    routes = sorted({rule.rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"})
    with start_in_thread(app) as server:
        load_cohort(f"{server.url}/0301/fhir", small_cohort)
        yield server, routes


def _snapshot(base: str, cohort: Path) -> list[str]:
    out = []
    with httpx.Client(base_url=base) as client:
        for line in (cohort / "Patient.ndjson").read_text().splitlines():
            rid = json.loads(line)["id"]
            out.append(client.get(f"/0301/fhir/Patient/{rid}").text)
    return out


def _fill(route: str, values: list[str]) -> str:
    iterator = iter(values)
    # Percent-encode like a client would; the hostile part is what the server receives decoded.
    return _VARIABLE.sub(lambda _: quote(next(iterator, "x"), safe=".$"), route)


# Pages for people (the operator's console forms) answer errors as HTML pages with the notice;
# every API route answers them as an OperationOutcome.
HTML_PAGES = ("/operator/console",)


def _check(response: httpx.Response, method: str, url: str) -> None:
    assert response.status_code < 500, f"{method} {url} answered {response.status_code}: {response.text[:300]}"
    assert "Traceback" not in response.text, f"{method} {url} leaked a stack trace"
    if response.status_code >= 400 and method != "HEAD":
        if response.headers.get("content-type", "").startswith("text/html"):
            assert url.startswith(HTML_PAGES), f"{method} {url}: an API error answered as HTML"
            return
        body = response.json()
        assert body.get("resourceType") == "OperationOutcome", f"{method} {url}: error without OperationOutcome"


@pytest.mark.slow
@pytest.mark.parametrize("batch", range(BATCHES))
def test_hostile_requests_never_break_the_platform(seeded, small_cohort: Path, batch: int,
                                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    server, routes = seeded
    before = _snapshot(server.url, small_cohort)
    counts = {"requests": 0, "failures": 0}
    client = httpx.Client(base_url=server.url, timeout=10.0)

    @settings(max_examples=REQUESTS_PER_BATCH, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(route=st.sampled_from(routes), values=st.lists(hostile_text, min_size=3, max_size=3),
           method=methods, body=bodies, content_type=content_types, params=query, salt=st.just(batch))
    def send(route, values, method, body, content_type, params, salt) -> None:
        url = _fill(route, values)
        counts["requests"] += 1
        try:
            response = client.request(method, url, params=params, content=body if method not in ("GET", "HEAD") else None,
                                      headers={"Content-Type": content_type} if content_type else {})
            _check(response, method, url)
        except AssertionError:
            counts["failures"] += 1
            raise

    try:
        send()
    finally:
        client.close()
        record_figures(tmp_path_factory, f"hostile-{batch}", {**counts, "routes": routes})
    assert _snapshot(server.url, small_cohort) == before, "hostile requests changed stored data"


def test_oversized_body_is_refused_early(seeded) -> None:
    server, _ = seeded
    huge = b'{"resourceType":"Bundle","type":"transaction","entry":[' + b" " * (20 * 1024 * 1024) + b"]}"
    response = httpx.post(f"{server.url}/0301/fhir", content=huge,
                          headers={"Content-Type": "application/fhir+json"}, timeout=30.0)
    assert response.status_code == 413
    assert response.json()["resourceType"] == "OperationOutcome"
