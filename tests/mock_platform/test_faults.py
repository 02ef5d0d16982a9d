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
