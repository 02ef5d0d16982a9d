"""Running the suite: selection by role and requirement, JUnit XML, xdist aggregation, exit codes,
evidence with secrets redacted, and `sandkasse verify` config errors. Against the real platform."""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from conformance.evidence import EvidenceLog
from sandbox.cli import main as cli
from sandbox.loop import load_cohort


@pytest.fixture()
def loaded(platform, small_cohort: Path) -> str:
    target = f"{platform.url}/0301/fhir"
    load_cohort(target, small_cohort)
    return target


def suite(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "conformance.suite", "-q",
                           "-p", "no:cacheprovider", "--sample-size=4", *args], capture_output=True, text=True, timeout=120)


def test_requirement_selection_junit_and_report(loaded: str, small_cohort: Path, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    run = suite(f"--target-url={loaded}", f"--cohort={small_cohort}", f"--report-dir={tmp_path}",
                "--requirement=SK-API-001", f"--junitxml={junit}")
    assert run.returncode == 0, run.stdout[-2000:]
    cases = ET.parse(junit).getroot().iter("testcase")
    names = [c.get("name") for c in cases]
    assert names and all(n.startswith("test_capability_statement") for n in names)
    report = json.loads((tmp_path / "report.json").read_text())
    assert [r["id"] for r in report["requirements"]] == ["SK-API-001"]
    assert report["requirements"][0]["status"] == "passed"
    assert report["provenance"]["catalog_sha256"] and report["provenance"]["cohort_seed"] == 7


def test_role_selection_keeps_only_that_roles_tests(loaded: str, small_cohort: Path) -> None:
    run = suite(f"--target-url={loaded}", f"--cohort={small_cohort}", "--role=producer", "--collect-only",
                "--ignore-glob=*/roles/*")
    assert "deselected" in run.stdout and "test_read_returns_loaded_resource" not in run.stdout
    server = suite(f"--target-url={loaded}", f"--cohort={small_cohort}", "--role=server", "--collect-only",
                   "--ignore-glob=*/roles/*")
    assert server.stdout.count("::") >= 150, server.stdout[-500:]


def test_xdist_run_aggregates_one_report(loaded: str, small_cohort: Path, tmp_path: Path) -> None:
    run = suite("-n", "2", f"--target-url={loaded}", f"--cohort={small_cohort}", f"--report-dir={tmp_path}",
                "--requirement=SK-API-001", "--requirement=SK-API-002", "--requirement=SK-API-003", "--evidence")
    assert run.returncode == 0, run.stdout[-2000:]
    report = {r["id"]: r for r in json.loads((tmp_path / "report.json").read_text())["requirements"]}
    assert {k: v["status"] for k, v in report.items()} == {"SK-API-001": "passed", "SK-API-002": "passed",
                                                           "SK-API-003": "passed"}
    assert len(report["SK-API-001"]["tests"]) >= 3      # tests from both workers, in one report
    flow = {(f["direction"], f["resource_type"]): f["count"] for f in json.loads((tmp_path / "report.json").read_text())["data_flow"]}
    assert flow[("read", "Patient")] >= 4
    evidence = list((tmp_path / "evidence").glob("*.json"))
    assert evidence and any("GET" in p.read_text() for p in evidence)


def test_usage_errors_exit_4_with_a_clear_line(loaded: str, tmp_path: Path) -> None:
    run = suite(f"--target-url={loaded}", f"--cohort={tmp_path}")
    assert run.returncode == 4 and "no manifest.json" in run.stderr
    run = suite(f"--target-url={loaded}", "--requirement=SK-NOPE-1")
    assert run.returncode == 4 and "SK-NOPE-1 is not in the catalog" in run.stderr


def test_failures_exit_1(small_cohort: Path, platform) -> None:
    # Nothing loaded: the cohort's patients are missing from the target.
    run = suite(f"--target-url={platform.url}/0301/fhir", f"--cohort={small_cohort}", "--requirement=SK-API-002")
    assert run.returncode == 1 and "the loaded Patient is missing" in run.stdout


def test_evidence_is_redacted(tmp_path: Path) -> None:
    log = EvidenceLog(folder=tmp_path)
    token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"access_token": token, "ok": 1}))
    with httpx.Client(transport=transport, event_hooks=log.hooks()) as client:
        log.start("t::one")
        client.get("https://epj.example/fhir/Patient/1", headers={"Authorization": f"DPoP {token}", "DPoP": token})
        path, digest = log.finish()
    text = path.read_text()
    assert token not in text and "eyJ" not in text and "REDACTED" in text
    assert '\\"ok\\":1' in text and len(digest) == 64


@pytest.mark.parametrize("content, message", [
    (None, "no config file"),
    ("roles = ['server']\n", "the server role needs target"),
    ("target = 'http://x/fhir'\nroles = ['janitor']\n", "roles must be a non-empty list"),
    ("target = 'http://x/fhir'\ncolour = 'blue'\n", "unknown key 'colour'"),
    ("target = 'http://x/fhir'\ncohort = 'nowhere'\n", "does not exist"),
    ("roles = ['consumer']\n", "need platform_url and adapter"),
    ("target = [", "not valid TOML"),
])
def test_verify_config_errors_exit_2(tmp_path: Path, capsys, content: str | None, message: str) -> None:
    config = tmp_path / "sandkasse.toml"
    if content is not None:
        config.write_text(content)
    assert cli(["verify", "--config", str(config)]) == 2
    assert message in capsys.readouterr().err


def test_verify_runs_the_configured_suite(loaded: str, small_cohort: Path, tmp_path: Path) -> None:
    config = tmp_path / "sandkasse.toml"
    config.write_text(f"target = '{loaded}'\nroles = ['server']\ncohort = '{small_cohort}'\n"
                      "requirements = ['SK-API-001', 'SK-DECL-001']\nreport_dir = 'out'\nproduct = 'Demo EPJ'\n"
                      "product_version = '1.2.3'\nvendor_orgnr = '999999999'\n")
    assert cli(["verify", "--config", str(config)]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert {r["id"]: r["status"] for r in report["requirements"]} == {"SK-API-001": "passed",
                                                                      "SK-DECL-001": "declared"}
    assert report["product"]["version"] == "1.2.3" and report["product"]["roles"] == ["server"]
    assert (tmp_path / "out" / "junit.xml").is_file()


@pytest.mark.parametrize("auth, verdict", [("helseid", "passed"), ("off-dev", "failed")])
def test_broken_helseid_tokens(tmp_path: Path, small_cohort: Path, auth: str, verdict: str) -> None:
    """Against the platform enforcing HelseID every broken token kind is refused; against the same
    platform in its development mode (no checks) the suite says so."""
    from mock_platform import PlatformConfig, create_app, start_in_thread
    app = create_app(PlatformConfig(database=str(tmp_path / "p.sqlite3"), auth=auth))
    with start_in_thread(app) as server:
        run = suite(f"--target-url={server.url}/0301/fhir", f"--cohort={small_cohort}",
                    f"--platform-admin-url={server.url}", f"--report-dir={tmp_path / 'r'}", "--evidence",
                    "--requirement=SK-SEC-001", "--requirement=SK-SEC-002")
    report = {r["id"]: r for r in json.loads((tmp_path / "r" / "report.json").read_text())["requirements"]}
    assert {r["status"] for r in report.values()} == {verdict}, run.stdout[-1500:]
    assert len(report["SK-SEC-001"]["tests"]) == 8 and len(report["SK-SEC-002"]["tests"]) == 2
    evidence = "".join(p.read_text() for p in (tmp_path / "r" / "evidence").glob("*.json"))
    assert "eyJ" not in evidence and '"authorization": "[REDACTED]"' in evidence
    if verdict == "failed":
        assert "it must be refused" in report["SK-SEC-001"]["message"]
