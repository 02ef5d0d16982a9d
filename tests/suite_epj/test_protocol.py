"""The scenario protocol on both sides: schemas, the Python and HTTP adapters, and the
reference EPJ's test-control endpoint and FHIR API."""
from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from conformance.adapters import AdapterError, HttpAdapter, PythonAdapter, load_adapter
from conformance.reference_epj import EpjConfig, create_app
from conformance.reference_epj.fhir import news2_subscores
from conformance.scenarios import PROTOCOL, STEPS, ProtocolError, load_scenario, validate_answer, validate_step
from mock_platform import start_in_thread

SCHEMAS = Path(__file__).parents[2] / "conformance" / "scenarios" / "schema"


def step(name: str, params: dict, sid: str = "s-1") -> dict:
    return {"protocol": PROTOCOL, "id": sid, "step": name, "params": params}


def test_every_step_has_a_step_and_an_answer_schema() -> None:
    for name in STEPS:
        for kind in ("step", "answer"):
            schema = json.loads((SCHEMAS / f"{name}.{kind}.schema.json").read_text())
            assert schema["$id"].endswith(f"/{name}.{kind}.schema.json")


def test_scenario_steps_validate() -> None:
    scenario = load_scenario("producer-vedtak")
    register = dict(scenario["steps"][0]["params"], patient={"fnr": "03903912325"})
    validate_step(step("register-vedtak", register))
    news2 = load_scenario("producer-news2")["steps"][0]["params"]
    validate_step(step("record-news2", dict(news2, patient={"fnr": "03903912325"})))


@pytest.mark.parametrize("message, where", [
    (step("register-vedtak", {"patient": {"fnr": "123"}}), "params"),
    (step("show-services", {"patient": {"fnr": "03903912325"}, "extra": 1}), "params"),
    ({"protocol": "other/1", "id": "x", "step": "resend-last", "params": {}}, "protocol"),
    (step("dance", {}), "unknown step"),
])
def test_invalid_steps_are_refused(message: dict, where: str) -> None:
    with pytest.raises(ProtocolError, match=where):
        validate_step(message)


def test_consumer_answer_needs_a_known_status() -> None:
    answer = {"protocol": PROTOCOL, "id": "a", "step": "show-services", "status": "complete", "services": []}
    validate_answer(answer)
    with pytest.raises(ProtocolError, match="status"):
        validate_answer(dict(answer, status="probably-fine"))


class Echo:
    def perform(self, message: dict) -> dict:
        return {"protocol": PROTOCOL, "id": message["id"], "step": message["step"], "status": "done"}


class WrongId(Echo):
    def perform(self, message: dict) -> dict:
        return dict(super().perform(message), id="someone-else")


def test_python_adapter_checks_both_directions() -> None:
    assert PythonAdapter(Echo()).perform(step("resend-last", {}))["status"] == "done"
    with pytest.raises(ProtocolError, match="expected"):
        PythonAdapter(WrongId()).perform(step("resend-last", {}))
    with pytest.raises(ProtocolError):
        PythonAdapter(Echo()).perform(step("register-vedtak", {}))


def test_load_adapter_specs() -> None:
    adapter = load_adapter("python:tests.suite_epj.test_protocol:Echo")
    assert isinstance(adapter, PythonAdapter) and type(adapter.target).__name__ == "Echo"
    assert isinstance(load_adapter("http://127.0.0.1:1/test-control/steps"), HttpAdapter)
    with pytest.raises(ValueError):
        load_adapter("ftp://example")


def test_http_adapter_reports_an_unreachable_endpoint() -> None:
    with pytest.raises(AdapterError, match="cannot reach"):
        HttpAdapter("http://127.0.0.1:9/test-control/steps", timeout=1).perform(step("resend-last", {}))


@pytest.fixture()
def epj(epj_cohort: Path):
    # The platform is unreachable on purpose: only the EPJ's own endpoints are exercised here.
    app = create_app(EpjConfig(platform_url="http://127.0.0.1:9/0301/fhir", cohort=epj_cohort, timeout=0.5))
    with start_in_thread(app) as server:
        yield server


def test_test_control_endpoint_answers_per_protocol(epj) -> None:
    adapter = HttpAdapter(f"{epj.url}/test-control/steps")
    answer = adapter.perform(step("resend-last", {}))
    assert answer["status"] == "failed" and "nothing has been sent" in answer["detail"]
    shown = adapter.perform(step("show-services", {"patient": {"fnr": "03903912325"}}))
    assert shown["status"] == "unavailable" and shown["services"] == []
    refused = httpx.post(f"{epj.url}/test-control/steps", json={"step": "dance"})
    assert refused.status_code == 400 and "unknown step" in refused.json()["error"]


def test_epj_fhir_api_serves_its_patients(epj, epj_cohort: Path) -> None:
    patient = json.loads((epj_cohort / "Patient.ndjson").read_text().splitlines()[0])
    fnr = patient["identifier"][0]["value"]
    read = httpx.get(f"{epj.url}/fhir/Patient/{patient['id']}")
    assert read.status_code == 200 and read.json()["identifier"] == patient["identifier"]
    found = httpx.get(f"{epj.url}/fhir/Patient", params={"identifier": f"{patient['identifier'][0]['system']}|{fnr}"})
    assert [e["resource"]["id"] for e in found.json()["entry"]] == [patient["id"]]
    missing = httpx.get(f"{epj.url}/fhir/Patient/does-not-exist")
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"
    assert httpx.get(f"{epj.url}/fhir/metadata").json()["fhirVersion"] == "4.0.1"


def test_news2_chart_scores_the_scenario_as_expected() -> None:
    scenario = load_scenario("producer-news2")
    subscores = news2_subscores(scenario["steps"][0]["params"]["measurements"])
    assert subscores == scenario["expect"]["subscores"]
    assert sum(subscores.values()) == scenario["expect"]["total"]
    consumer = load_scenario("consumer-news2")
    assert sum(news2_subscores(consumer["measurements"]).values()) == consumer["total"]
