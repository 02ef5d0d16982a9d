"""The clean reference EPJ against the real mock platform in full HelseID mode: its transaction
Bundles pass the platform's validator and rules, its tokens and DPoP proofs pass the platform's
checks, and what it shows is what the platform holds, driven step by step without the suite.
(The suite against the clean EPJ and its defect variants: test_defective_variants.py.)"""
from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import httpx
import pytest

from conformance.auth import HelseIdAuth, HelseIdClientConfig, dpop
from conformance.reference_epj import EpjConfig, ReferenceEpj
from conformance.scenarios import PROTOCOL, load_scenario
from mock_platform import PlatformConfig, create_app, start_in_thread
from mock_platform.security import protect_fhir_api

ORG = "310000000"          # synthetic organisation number (Tenor space, mod-11)
API = "nhn:sandkasse-plattform"
SCOPES = [f"{API}/{s}.{a}" for s in ("kommunale-tjenester", "news2-malinger") for a in ("read", "write")]


def _register(issuer: str) -> HelseIdClientConfig:
    key = dpop.generate_key()
    response = httpx.post(f"{issuer}/admin/clients", json={
        "client_name": "sandkasse reference EPJ", "jwk": dpop.public_jwk(key), "scopes": SCOPES,
        "organisations": [ORG], "tenancy": "single"})
    assert response.status_code == 201, response.text
    return HelseIdClientConfig(issuer=issuer, client_id=response.json()["client_id"], scopes=SCOPES,
                               organisation={"parent": ORG}, private_jwk=key.as_dict(private=True))


@pytest.fixture()
def secure(tmp_path: Path, epj_cohort: Path):
    app = create_app(PlatformConfig(database=str(tmp_path / "platform.sqlite3"), tenants=("0301",), auth="helseid",
                                    extra={"TENANT_ORGANISATIONS": {"0301": [ORG]}}))
    protect_fhir_api(app)
    with start_in_thread(app) as server:
        issuer = f"{server.url}/helseid"
        loader = _register(issuer)
        with httpx.Client(auth=HelseIdAuth(loader), headers={"Content-Type": "application/fhir+json"}) as client:
            for line in (epj_cohort / "bundles.ndjson").read_text(encoding="utf-8").splitlines():
                bundle = json.loads(line)
                bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
                if bundle["entry"]:
                    response = client.post(f"{server.url}/0301/fhir", json=bundle)
                    assert response.status_code == 200, response.text
        yield server.url, _register(issuer)


def _step(epj: ReferenceEpj, name: str, params: dict) -> dict:
    return epj.perform({"protocol": PROTOCOL, "id": str(uuid.uuid4()), "step": name, "params": params})


def test_clean_epj_writes_and_reads_through_the_real_platform(secure, epj_cohort: Path) -> None:
    url, client = secure
    epj = ReferenceEpj(EpjConfig(platform_url=f"{url}/0301/fhir", cohort=epj_cohort, organisation=ORG,
                                 helseid=client, timeout=5.0))
    patient = json.loads((epj_cohort / "Patient.ndjson").read_text().splitlines()[0])
    fnr = patient["identifier"][0]["value"]
    scenario = load_scenario("producer-vedtak")
    register = dict(copy.deepcopy(scenario["steps"][0]["params"]), patient={"fnr": fnr})

    for name, params in [("register-vedtak", register), ("resend-last", {}),
                         ("update-vedtak", {"vedtak_id": register["vedtak_id"], "hours": 7.0})]:
        answer = _step(epj, name, params)
        assert answer["status"] == "done", f"{name}: {answer.get('detail')}"
    news2 = load_scenario("producer-news2")["steps"][0]["params"]
    answer = _step(epj, "record-news2", dict(copy.deepcopy(news2), patient={"fnr": fnr}))
    assert answer["status"] == "done", answer.get("detail")

    reader = HelseIdClientConfig(**{**client.__dict__, "scopes": [s for s in SCOPES if s.endswith(".read")]})
    with httpx.Client(base_url=f"{url}/0301/fhir/", auth=HelseIdAuth(reader)) as fhir:
        found = fhir.get("EpisodeOfCare", params={"identifier": f"https://sandkasse.no/fhir/sid/vedtak/0301|{register['vedtak_id']}"}).json()
    stored = [e["resource"] for e in found.get("entry", []) if e.get("search", {}).get("mode") == "match"]
    assert len(stored) == 1 and stored[0]["meta"]["versionId"] == "2"
    assert stored[0]["patient"]["reference"] == f"Patient/{patient['id']}"

    shown = _step(epj, "show-services", {"patient": {"fnr": fnr}})
    assert shown["status"] == "complete", shown
    assert [(s["vedtak_id"], s["hours"]) for s in shown["services"]] == [(register["vedtak_id"], 7.0)]
    sets = _step(epj, "show-news2", {"patient": {"fnr": fnr}})
    assert sets["status"] == "complete" and sets["news2"][0]["total"] == load_scenario("producer-news2")["expect"]["total"]
    assert sets["news2"][0]["measurements"] == news2["measurements"]
