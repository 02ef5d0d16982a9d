"""Fault injection per tenant, route and patient: slow, 429, 500, 503, truncated, drop."""
from __future__ import annotations

import time

import httpx
import pytest

from tests.mock_platform.fhir import bundle, observation, patient


@pytest.fixture()
def loaded(api):
    assert api.transaction(bundle(patient("p1"), *(observation(f"o{i}", "p1") for i in range(6)))).status_code == 200
    assert api.transaction(bundle(patient("p2", 2), observation("q1", "p2"))).status_code == 200
    return api


def _faults(api, *rules: dict) -> None:
    response = api.admin("PUT", "/tenants/0301/faults", json=list(rules))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("kind, code, retry", [("429", "throttled", True), ("500", "exception", False),
                                               ("503", "transient", True)])
def test_error_statuses(loaded, kind: str, code: str, retry: bool) -> None:
    _faults(loaded, {"route": "Observation*", "kind": kind})
    response = loaded.get("Observation", patient="p1")
    assert response.status_code == int(kind)
    issue = response.json()["issue"][0]
    assert issue["code"] == code and "Injected fault" in issue["details"]["text"]
    assert ("Retry-After" in response.headers) == retry
    assert loaded.get("Patient/p1").status_code == 200           # other routes are untouched


def test_slow(loaded) -> None:
    _faults(loaded, {"route": "Patient/*", "kind": "slow", "delay_ms": 400})
    started = time.monotonic()
    assert loaded.get("Patient/p1").status_code == 200
    assert time.monotonic() - started >= 0.4                    # it really waited before answering


def test_truncated_bundle_claims_more_than_it_carries(loaded) -> None:
    _faults(loaded, {"route": "Observation", "kind": "truncated"})
    page = loaded.get("Observation", patient="p1", _count=4).json()
    assert page["total"] == 6 and len(page["entry"]) == 2
    assert {link["relation"] for link in page["link"]} <= {"self", "first"}


def test_drop_closes_the_connection(loaded) -> None:
    _faults(loaded, {"route": "Patient/*", "kind": "drop"})
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{loaded.base}/Patient/p1", timeout=10)


def test_times_and_patient_narrow_a_rule(loaded) -> None:
    _faults(loaded, {"route": "*", "patient": "p2", "kind": "503", "times": 2})
    assert loaded.get("Observation", patient="p1").status_code == 200
    assert loaded.get("Observation", patient="p2").status_code == 503
    assert loaded.get("Patient/p2").status_code == 503
    assert loaded.get("Patient/p2").status_code == 200           # used up
    assert loaded.admin("GET", "/tenants/0301/faults").json()["faults"][0]["remaining"] == 0


def test_faults_are_per_tenant_and_can_be_cleared(loaded) -> None:
    _faults(loaded, {"route": "*", "kind": "500"})
    assert loaded.as_("epj-a", tenant="4601").get("metadata").status_code == 200
    assert loaded.get("Patient/p1").status_code == 500
    assert loaded.admin("DELETE", "/tenants/0301/faults").status_code == 200
    assert loaded.get("Patient/p1").status_code == 200


def test_invalid_rules_are_refused(loaded) -> None:
    response = loaded.admin("PUT", "/tenants/0301/faults", json=[{"route": "*", "kind": "teapot"}])
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["faults[0].kind"]


def test_skip_lets_the_first_matching_requests_through(loaded) -> None:
    _faults(loaded, {"route": "Observation*", "kind": "503", "skip": 2})
    assert loaded.get("Patient/p1").status_code == 200               # not matching: not counted
    first = loaded.get("Observation", patient="p1", _count=3)
    assert first.status_code == 200
    later_page = next(link["url"] for link in first.json()["link"] if link["relation"] == "next")
    assert httpx.get(later_page, headers=loaded.http.headers).status_code == 200
    assert loaded.get("Observation", patient="p1").status_code == 503  # the third and later fail
    assert loaded.get("Observation", patient="p2").status_code == 503
    stored = loaded.admin("GET", "/tenants/0301/faults").json()["faults"]
    assert [(r["kind"], r.get("remaining")) for r in stored] == [("pass", 0), ("503", None)]
    assert stored[1]["skip"] == 2


def test_skip_is_counted_in_the_database_across_processes(tmp_path) -> None:
    """Two platform apps (as two processes would) on one database share one skip count."""
    from mock_platform import PlatformConfig, create_app, start_in_thread
    from tests.mock_platform.conftest import Api
    config = PlatformConfig(database=str(tmp_path / "shared.sqlite3"), tenants=("0301",), auth="off-dev")
    with start_in_thread(create_app(config)) as a, start_in_thread(create_app(config)) as b:
        one, two = Api(a.url), Api(b.url)
        assert one.admin("PUT", "/tenants/0301/faults", json=[{"route": "Patient*", "kind": "500", "skip": 1}]
                         ).status_code == 200
        assert one.get("Patient", _id="x").status_code == 200
        assert two.get("Patient", _id="x").status_code == 500             # the other process saw the skip used


def test_pass_rules_exempt_a_route_from_a_broader_rule(loaded) -> None:
    _faults(loaded, {"route": "Patient*", "kind": "pass"}, {"route": "*", "kind": "503"})
    assert loaded.get("Patient/p1").status_code == 200
    assert loaded.get("Observation", patient="p1").status_code == 503


@pytest.mark.parametrize("skip", [-1, "1", 1.5, True])
def test_invalid_skip_is_refused(loaded, skip) -> None:
    response = loaded.admin("PUT", "/tenants/0301/faults", json=[{"route": "*", "kind": "503", "skip": skip}])
    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["faults[0].skip"] and "skip" in issue["diagnostics"]


def test_max_page_size_caps_every_page_of_a_search(loaded) -> None:
    assert loaded.admin("PUT", "/tenants/0301/settings", json={"max_page_size": 4}).json()["settings"] == \
        {"max_page_size": 4}
    seen, url = [], None
    page = loaded.get("Observation", patient="p1", _count=50).json()   # asks for more than the cap
    while True:
        assert len(page["entry"]) <= 4 and page["total"] == 6
        seen += [e["resource"]["id"] for e in page["entry"]]
        url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
        if url is None:
            break
        assert "_count=4" in url
        page = httpx.get(url, headers=loaded.http.headers).json()
    assert sorted(seen) == [f"o{i}" for i in range(6)]
    assert len(loaded.get("Observation", patient="p1", _count=1).json()["entry"]) == 1   # smaller stays
    assert len(loaded.get("Observation", patient="p1").json()["entry"]) == 4             # default capped too
    history = loaded.get("Observation/_history", _count=50).json()                         # histories too
    assert len(history["entry"]) == 4 and history["total"] >= 6
    assert "_count=4" in next(link["url"] for link in history["link"] if link["relation"] == "next")
    assert loaded.admin("GET", "/tenants/0301/settings").json()["settings"] == {"max_page_size": 4}
    assert loaded.admin("PUT", "/tenants/0301/settings", json={"max_page_size": None}).status_code == 200
    assert len(loaded.get("Observation", patient="p1").json()["entry"]) == 6
    assert len(loaded.as_("epj-a", tenant="4601").get("Observation").json().get("entry", [])) == 0


@pytest.mark.parametrize("body, where", [({"max_page_size": 0}, "max_page_size"),
                                         ({"max_page_size": "5"}, "max_page_size"),
                                         ({"page": 5}, "page"), ([], "settings")])
def test_invalid_settings_are_refused(loaded, body, where) -> None:
    response = loaded.admin("PUT", "/tenants/0301/settings", json=body)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == [where]
