"""The loop end to end: cohort → platform → suite → report, and defective targets caught by it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask, Response

from mock_platform import PlatformConfig, create_app, start_in_thread
from sandbox.loop import DevelopmentCaller, load_cohort, run_demo, run_suite


def test_demo_loop_verifies_the_platform(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "demo", size=10)
    report = json.loads(result.report_paths["json"].read_text())
    statuses = {r["id"]: r["status"] for r in report["requirements"]}
    assert result.exit_code == 0
    assert result.verdict == report["verdict"] == "verified"
    assert "failed" not in statuses.values()
    assert statuses["SK-API-001"] == statuses["SK-API-002"] == statuses["SK-API-003"] == "passed"
    # The demo platform enforces HelseID: the suite logged in, and every broken token was refused.
    assert statuses["SK-SEC-001"] == statuses["SK-SEC-002"] == "passed"
    # The suite reads as a consumer, not as the cohort's source: the vedtak free text is withheld.
    assert statuses["SK-KT-003"] == "passed"
    assert statuses["SK-DECL-001"] == "declared"
    assert report["signed"] is False
    html = result.report_paths["html"].read_text()
    assert "SK-API-002" in html and "verified" in html
    assert result.report_paths["junit"].read_text().count("<testcase") >= 3


def _defective(platform_app: Flask, defect: str) -> Flask:
    """The real platform behind a front that injects one defect."""
    front = Flask("defective")

    @front.route("/<path:path>", methods=["GET", "POST"])
    def proxy(path: str) -> Response:
        from flask import request
        client = platform_app.test_client()
        if defect == "no-metadata" and path.endswith("/metadata"):
            return Response("not here", status=404, content_type="text/plain")
        # Forward the request as it came (headers too), with the front's own address as the base
        # URL, so that the platform's paging links lead back through the front.
        upstream = client.open(f"/{path}", method=request.method, query_string=request.query_string.decode(),
                               data=request.get_data(), base_url=request.host_url,
                               headers=[(k, v) for k, v in request.headers.items() if k.lower() != "host"])
        body = upstream.get_json(silent=True)
        if defect == "wrong-patient" and body and body.get("resourceType") == "Patient":
            body["birthDate"] = "1901-01-01"
            return Response(json.dumps(body), status=upstream.status_code, content_type="application/fhir+json")
        return Response(upstream.get_data(), status=upstream.status_code,
                        content_type=upstream.content_type)

    return front


SUITE_ARGS = ["--role=server", "--sample-size=4"]


def test_clean_platform_passes_the_server_role(tmp_path: Path, small_cohort: Path) -> None:
    with start_in_thread(create_app(PlatformConfig(database=str(tmp_path / "p.sqlite3"), auth="off-dev"))) as clean:
        load_cohort(f"{clean.url}/0301/fhir", small_cohort, auth=DevelopmentCaller())
        exit_code = run_suite(f"{clean.url}/0301/fhir", small_cohort, tmp_path / "report", SUITE_ARGS)
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert [r["id"] for r in report["requirements"] if r["status"] == "failed"] == []
    assert exit_code == 0


@pytest.mark.parametrize("defect, failing, message", [
    ("no-metadata", "SK-API-001", "GET [base]/metadata answered HTTP 404"),
    ("wrong-patient", "SK-API-002", "birthDate is '1901-01-01', but the cohort has"),
])
def test_suite_fails_a_defective_target_with_a_fix(tmp_path: Path, small_cohort: Path,
                                                   defect: str, failing: str, message: str) -> None:
    platform_app = create_app(PlatformConfig(database=str(tmp_path / "p.sqlite3"), auth="off-dev"))
    with start_in_thread(_defective(platform_app, defect)) as server:
        target = f"{server.url}/0301/fhir"
        load_cohort(target, small_cohort, auth=DevelopmentCaller())
        exit_code = run_suite(target, small_cohort, tmp_path / "report", SUITE_ARGS)
    assert exit_code == 1
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    statuses = {r["id"]: r for r in report["requirements"]}
    assert report["verdict"] == "not verified"
    assert statuses[failing]["status"] == "failed"
    assert message in statuses[failing]["message"]
    assert statuses[failing]["fix"]
    # Exactly the injected defect fails (the clean platform fails nothing: see above).
    assert [r for r, v in statuses.items() if v["status"] == "failed"] == [failing]
