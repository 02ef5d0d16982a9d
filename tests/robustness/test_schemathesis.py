"""schemathesis against the platform's own OpenAPI description, over real HTTP.

Every operation of GET /openapi.json gets positive data (valid by the description, so it reaches
the handlers) and negative data (each part broken in turn). Every answer passes schemathesis'
checks (no server error, documented status code, content type, headers and body schema) and ours
(never a 5xx or a stack trace, every error an OperationOutcome), and a refused request leaves the
store as it was.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from mock_platform import PlatformConfig, create_app, start_in_thread
from mock_platform.security.operator import DEV_OPERATOR_TOKEN
from sandbox.loop import load_cohort
from tests.robustness.figures import record_figures
from tests.robustness.hostile import check_answer, fingerprint, snapshot

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES = 3          # per operation and mode: ~200 operations × 2 modes × 3 ≈ 1,200 requests, ~60 s
BATCHES = 2           # one per xdist worker
TARGET, WITNESS, SCRATCH = "0301", "4601", "st-scratch"
MAX_SEED = 3          # patients in a generated seed request
MAX_WAIT = 0.05       # seconds of a generated long-poll


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, small_cohort: Path):
    folder = tmp_path_factory.mktemp("schemathesis")
    app = create_app(PlatformConfig(database=str(folder / "p.sqlite3"), tenants=(TARGET, WITNESS), auth="off-dev"))
    with start_in_thread(app) as server:
        created = httpx.post(f"{server.url}/admin/tenants", json={"id": SCRATCH, "kind": "vendor", "kommunenummer": TARGET})
        assert created.status_code == 201, created.text
        load_cohort(f"{server.url}/{WITNESS}/fhir", small_cohort)
        load_cohort(f"{server.url}/{TARGET}/fhir", small_cohort)
        schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
        yield server, app, schema


def _tenant_for(operation) -> dict:
    """Pin the tenant: generated data reaches the handlers of a tenant that has data; the admin API
    (which may reset a tenant or inject faults) works on a scratch tenant; the witness is never named."""
    if not any(p.name == "tenant" for p in operation.path_parameters):
        return {}
    return {"tenant": SCRATCH if operation.path.startswith(("/admin/", "/helseid/")) else TARGET}


def _tame(case):
    """Valid requests that are slow by design are made quick: a seed of 10,000 patients is load and a
    long-poll of 60 s is waiting, not hostility (each is tested on its own elsewhere)."""
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("cohort"), dict) and isinstance(body["cohort"].get("size"), int):
        body["cohort"]["size"] = min(body["cohort"]["size"], MAX_SEED)
    if isinstance(case.query, dict) and isinstance(case.query.get("wait"), (int, float)):
        case.query["wait"] = min(case.query["wait"], MAX_WAIT)
    return case


@pytest.mark.slow
@pytest.mark.parametrize("batch", range(BATCHES))
def test_schemathesis_finds_no_failure(target, small_cohort: Path, batch: int) -> None:
    server, app, schema = target
    storage = app.extensions["sandkasse.storage"]
    before = snapshot(server.url, small_cohort, WITNESS)
    operations = [result.ok() for result in schema.get_all_operations()][batch::BATCHES]
    counts = {"schemathesis operations": len(operations), "schemathesis requests": 0, "schemathesis failures": 0}
    failures: list[str] = []
    session = requests.Session()
    operator = {"Authorization": f"Bearer {DEV_OPERATOR_TOKEN}"}

    def run(operation, mode: GenerationMode) -> None:
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=_tenant_for(operation)).map(_tame)

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def send(case) -> None:
            counts["schemathesis requests"] += 1
            headers = operator if operation.path.startswith(("/admin/", "/operator/")) else None
            state = fingerprint(storage)
            response = case.call(base_url=server.url, session=session, headers=headers, timeout=30)
            path = urlsplit(response.request.url).path
            problems = []
            try:
                case.validate_response(response, checks=CHECKS)
            except (AssertionError, BaseExceptionGroup) as error:   # schemathesis groups its failures
                problems += [str(e).splitlines()[0] for e in getattr(error, "exceptions", [error])]
            try:
                content_type = (response.headers.get("content-type") or [""])[0]   # headers hold lists
                check_answer(response.status_code, content_type, response.text, case.method, path)
                if response.status_code >= 400:
                    assert fingerprint(storage) == state, f"{case.method} {path}: refused, yet the store changed"
            except AssertionError as error:
                problems.append(str(error))
            if problems:
                counts["schemathesis failures"] += 1
                failures.append(f"{mode.value} {case.method} {path} -> {response.status_code}: {'; '.join(problems)}"
                                f"\n    {response.text[:200]}")

        try:
            send()
        except Unsatisfiable:
            pass   # nothing to break: an operation without parameters or body has no negative data

    try:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                run(operation, mode)
    finally:
        session.close()
        record_figures(f"schemathesis-{batch}", counts)
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])
    assert snapshot(server.url, small_cohort, WITNESS) == before, "the run changed another tenant's data"
