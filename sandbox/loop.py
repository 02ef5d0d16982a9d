"""The verification loop: cohort → platform → suite → report."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from mock_platform import PlatformConfig, create_app, start_in_thread
from synthetic_data import CohortSpec, write_cohort


@dataclass
class LoopResult:
    exit_code: int
    target_url: str
    cohort_dir: Path
    report_paths: dict[str, Path]
    verdict: str
    counts: dict[str, int]


def load_cohort(base_url: str, cohort_dir: Path) -> int:
    """POST each patient's transaction Bundle to the platform's intake; returns the number loaded."""
    loaded = 0
    with httpx.Client(timeout=30.0) as client, (cohort_dir / "bundles.ndjson").open(encoding="utf-8") as lines:
        for line in lines:
            response = client.post(base_url, content=line.encode(),
                                   headers={"Content-Type": "application/fhir+json"})
            response.raise_for_status()
            loaded += 1
    return loaded


def run_suite(target_url: str, cohort_dir: Path, report_dir: Path, extra: list[str] | None = None) -> int:
    """Run the conformance suite in its own process: it knows the target only over HTTP."""
    command = [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite", "-q", "-p", "no:cacheprovider",
               f"--target-url={target_url}", f"--cohort={cohort_dir}", f"--report-dir={report_dir}",
               f"--junitxml={report_dir / 'junit.xml'}", *(extra or [])]
    return subprocess.call(command)


def run_demo(out: Path, seed: int = 42, size: int = 50, kommunenummer: str = "0301") -> LoopResult:
    cohort_dir, report_dir = out / "cohort", out / "report"
    write_cohort(CohortSpec(size=size, seed=seed, kommunenummer=kommunenummer), cohort_dir)
    app = create_app(PlatformConfig(database=str(out / "platform.sqlite3"), tenants=(kommunenummer,)))
    with start_in_thread(app) as server:
        target_url = f"{server.url}/{kommunenummer}/fhir"
        load_cohort(target_url, cohort_dir)
        exit_code = run_suite(target_url, cohort_dir, report_dir)
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    counts: dict[str, int] = {}
    for req in report["requirements"]:
        counts[req["status"]] = counts.get(req["status"], 0) + 1
    return LoopResult(exit_code, target_url, cohort_dir,
                      {"json": report_dir / "report.json", "html": report_dir / "report.html",
                       "junit": report_dir / "junit.xml"},
                      report["verdict"], counts)
