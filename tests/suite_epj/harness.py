"""Runs the conformance suite's producer and consumer roles against the reference EPJ (clean or
with one defect) in front of a real mock platform: each variant gets its own platform contract
bridge (tests/suite_epj/platform_bridge.py) and EPJ on free ports; the suite runs in its own
process over HTTP and writes report.json, which is what the tests judge."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.reference_epj import Defect, EpjConfig, create_app as create_epj
from conformance.reference_epj.epj import CONFIG_ENV
from mock_platform import start_in_thread
from tests.suite_epj.platform_bridge import PlatformBridge

TENANT = "0301"
TOKEN_LIFETIME = 2   # seconds: short, so that a token kept past its expiry shows in a short run
MODULES = {"producer": "conformance.suite.roles.test_producer",
           "consumer": "conformance.suite.roles.test_consumer"}


def load_cohort(platform_app, cohort: Path) -> None:
    """The cohort's patients, through the platform's intake as a source system would send them.
    Only the Patients: the information services' data in these tests is what the scenarios write
    and seed (the bridge holds it until the platform serves the roles' routes)."""
    client = platform_app.test_client()
    with (cohort / "bundles.ndjson").open(encoding="utf-8") as lines:
        for line in lines:
            bundle = json.loads(line)
            bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
            if not bundle["entry"]:
                continue
            response = client.post(f"/{TENANT}/fhir", json=bundle, content_type="application/fhir+json")
            assert response.status_code in (200, 201), response.get_data(as_text=True)[:500]


@dataclass
class SuiteRun:
    returncode: int
    report: dict
    output: str

    def statuses(self, prefix: tuple[str, ...] = ("SK-PROD-", "SK-CONS-")) -> dict[str, str]:
        return {r["id"]: r["status"] for r in self.report["requirements"] if r["id"].startswith(prefix)}

    def failed(self) -> dict[str, str]:
        return {r["id"]: r.get("message") or "" for r in self.report["requirements"] if r["status"] == "failed"}


def run_variant(platform_app, cohort: Path, work: Path, defects: frozenset[Defect], roles: tuple[str, ...],
                adapter: str = "http", in_process: bool = True) -> SuiteRun:
    """One suite run against one EPJ variant. In-process (pytest.main) by default: the variants
    then share one interpreter and one compiled validator, which keeps 30+ runs fast."""
    work.mkdir(parents=True, exist_ok=True)
    with start_in_thread(PlatformBridge(platform_app)) as platform:
        platform_url = f"{platform.url}/{TENANT}/fhir"
        config = EpjConfig(platform_url=platform_url, cohort=cohort, defects=defects, timeout=0.5,
                           token_lifetime=TOKEN_LIFETIME)
        with start_in_thread(create_epj(config)) as epj:
            if Defect.STALE_TOKEN in defects:
                # Let the token it logged in with at start-up expire: exp is rounded up to a whole
                # second (up to 1 s after iat + lifetime), so wait past that on any machine speed.
                time.sleep(TOKEN_LIFETIME + 1.1)
            env = {}
            if adapter == "http":
                spec = f"{epj.url}/test-control/steps"
            else:
                config_file = work / "epj.json"
                config_file.write_text(json.dumps({"platform_url": platform_url, "cohort": str(cohort),
                                                   "defects": sorted(defects), "timeout": 0.5,
                                                   "token_lifetime": TOKEN_LIFETIME}))
                spec = "python:conformance.reference_epj.epj:ReferenceEpj"
                env = {CONFIG_ENV: str(config_file)}
            args = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-W", "ignore::pytest.PytestAssertRewriteWarning", "--pyargs", *[MODULES[r] for r in roles],
                    "--platform-url", platform_url, "--platform-admin-url", platform.url,
                    "--adapter", spec, "--cohort", str(cohort), "--report-dir", str(work / "report")]
            returncode, output = (_in_process if in_process else _subprocess)(args, work, env)
    report_file = work / "report" / "report.json"
    if not report_file.is_file():
        raise AssertionError(f"the suite wrote no report:\n{output[-3000:]}")
    return SuiteRun(returncode, json.loads(report_file.read_text()), output)


def _in_process(args: list[str], work: Path, env: dict) -> tuple[int, str]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return int(pytest.main(args, plugins=[])), ""
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _subprocess(args: list[str], work: Path, env: dict) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=work, capture_output=True, text=True,
                          timeout=180, env={**os.environ, **env})
    return proc.returncode, proc.stdout + proc.stderr
