"""Helpers of the report tests: a sample report, and for the operator tests a platform client with
the operator's token and a movable clock."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone

import httpx

from reports import (DECLARED, FAILED, NOT_APPLICABLE, PASSED, Attempt, DataFlow, Evidence, Product, Provenance,
                     Report, RequirementResult)
from synthetic_data.identifiers import synthetic_orgnr

OPERATOR_TOKEN = "op-test-token"


def orgnr(seed: int) -> str:
    return synthetic_orgnr(random.Random(seed))


@dataclass
class Clock:
    """Starts at the real time (so the CLI, which uses the real clock, agrees); tests move it."""
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Operator:
    url: str
    clock: Clock
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=10.0)

    def call(self, method: str, path: str, token: str | None = OPERATOR_TOKEN, **kwargs) -> httpx.Response:
        headers = kwargs.pop("headers", {}) | ({"Authorization": f"Bearer {token}"} if token else {})
        return self.http.request(method, path, headers=headers, **kwargs)

    def add_vendor(self, org: str, name: str) -> str:
        response = self.call("POST", "/operator/vendors", json={"vendor_org": org, "name": name})
        assert response.status_code == 201, response.text
        return response.json()["api_key"]

    def record(self, org: str, report: dict, product: str = "EksJournal", version: str = "4.2.1") -> dict:
        response = self.call("POST", "/operator/runs", json={
            "vendor_org": org, "product": product, "version": version,
            "roles": ["source-system"], "report": report})
        assert response.status_code == 201, response.text
        return response.json()

    def issue(self, run_id: str, days: float = 365) -> httpx.Response:
        return self.call("POST", f"/operator/runs/{run_id}/issue", json={"validity_days": days})


def make_report(*, failing: bool = True, version: str = "4.2.1") -> Report:
    """A report shaped like the suite's: one of each status, evidence on the failure."""
    failure = RequirementResult(
        "KT-03", "Vedtak carry the decision date", "SHALL", FAILED if failing else PASSED,
        tests=["conformance/suite/test_vedtak.py::test_decision_date"], area="exchange",
        message="3 of 25 vedtak lack ServiceRequest.authoredOn" if failing else None,
        fix="Set ServiceRequest.authoredOn to the date of the vedtak." if failing else None,
        evidence=[Evidence("GET ServiceRequest/vedtak-17", '{"resourceType":"ServiceRequest","id":"vedtak-17"}',
                           "application/fhir+json")])
    return Report(
        target="http://127.0.0.1:9/0301/fhir", suite_version="0.1.0",
        started="2026-11-20T10:00:00Z", finished="2026-11-20T10:03:12Z",
        requirements=[
            RequirementResult("KT-01", "Kommunale tjenester are searchable by patient", "SHALL", PASSED,
                              tests=["conformance/suite/test_vedtak.py::test_search"], area="exchange"),
            failure,
            RequirementResult("SEC-02", "The EPJ stores HelseID keys in an HSM", "SHALL", DECLARED, area="security"),
            RequirementResult("N2-09", "NEWS2 sub-scores are reported", "SHOULD", NOT_APPLICABLE, area="exchange"),
        ],
        product=Product(vendor_org="999888777", vendor_name="Eksempel Journal AS", name="EksJournal",
                        version=version, roles=["source-system", "consumer"]),
        provenance=Provenance(ig_package="sandkasse.fkj", ig_version="0.1.0", ig_sha256="ab" * 32,
                              catalog_sha256="cd" * 32, cohort_seed=42, cohort_generator_version="0.1.0"),
        attempt=2,
        history=[Attempt(1, "2026-11-19T09:00:00Z", "2026-11-19T09:02:00Z", "not verified", "run-1",
                         {"failed": 2})],
        data_flow=[DataFlow("eks-journal", "ServiceRequest", "read", 25),
                   DataFlow("eks-journal", "Observation", "write", 10)])
