"""Fixtures of the report tests: a small report with a failure and evidence, and an operator key."""
from __future__ import annotations

import pytest

from reports import (DECLARED, FAILED, NOT_APPLICABLE, PASSED, Attempt, DataFlow, Evidence, Product, Provenance,
                     Report, RequirementResult)
from reports.signing import generate_key


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


@pytest.fixture()
def report() -> Report:
    return make_report()


@pytest.fixture()
def passing_report() -> Report:
    return make_report(failing=False)


@pytest.fixture(scope="session")
def operator_key():
    return generate_key()


@pytest.fixture()
def operator(tmp_path):
    """A real platform on a free localhost port with the operator's token and a movable clock."""
    from mock_platform import PlatformConfig, create_app, start_in_thread
    from report_operator_support import OPERATOR_TOKEN, Clock, Operator
    clock = Clock()
    app = create_app(PlatformConfig(database=str(tmp_path / "platform.sqlite3"),
                                    extra={"OPERATOR_TOKEN": OPERATOR_TOKEN, "OPERATOR_CLOCK": clock}))
    with start_in_thread(app) as server:
        client = Operator(server.url, clock)
        yield client
        client.http.close()
