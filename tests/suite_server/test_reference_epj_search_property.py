"""Property: the reference EPJ's index-based search answers every date and token search exactly as
the suite's ground truth (a scan of the cohort with conformance.suite.server.support) computes it:
two independent implementations of the same FHIR search semantics, for any day and comparator."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conformance.ground_truth import GroundTruth
from conformance.reference_epj import EpjConfig, create_app
from conformance.suite.server import support
from mock_platform import start_in_thread

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DATE_PARAMS = support.params("date")
TOKEN_PARAMS = support.params("token")


@pytest.fixture(scope="module")
def epj(small_cohort: Path):
    app = create_app(EpjConfig(platform_url="http://127.0.0.1:9/0301/fhir", cohort=small_cohort))
    with start_in_thread(app) as server, httpx.Client(base_url=f"{server.url}/fhir/", timeout=15) as client:
        yield client, GroundTruth.load(small_cohort)


def _all_ids(client: httpx.Client, rtype: str, query: dict) -> list[str]:
    bundle = client.get(rtype, params={**query, "_count": 1000}).json()
    assert not any(link["relation"] == "next" for link in bundle["link"])
    return sorted(e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "match")


@SETTINGS
@given(case=st.sampled_from(DATE_PARAMS), patient=st.integers(0, 19),
       day=st.dates(date(2015, 1, 1), date(2027, 12, 31)), comparator=st.sampled_from(("eq", "ge", "le", "gt", "lt")))
def test_date_search_matches_the_ground_truth(epj, case, patient: int, day: date, comparator: str) -> None:
    client, truth = epj
    rtype, param = case
    spec = support.types()[rtype]
    pid = truth.patients(20)[patient]["id"]
    candidates = truth.for_patient(rtype, spec.patient, pid)
    expected = sorted(r["id"] for r in candidates if support.date_matches(r, param.path, comparator, day))
    query = {"patient": pid, param.name: f"{comparator}{day.isoformat()}"}
    assert _all_ids(client, rtype, query) == expected, query


@SETTINGS
@given(case=st.sampled_from(TOKEN_PARAMS), pick=st.integers(0, 10_000), with_system=st.booleans())
def test_token_search_matches_the_ground_truth(epj, case, pick: int, with_system: bool) -> None:
    client, truth = epj
    rtype, param = case
    tokens = sorted({t for r in truth.all(rtype) for v in support.values(r, param.path) for t in support.tokens(v)},
                    key=str)
    system, code = tokens[pick % len(tokens)]
    system = system if with_system else None
    expected = sorted(r["id"] for r in truth.all(rtype) if support.has_token(r, param.path, system, code))
    query = {param.name: support.token_param(system, code)}
    assert _all_ids(client, rtype, query) == expected, query
