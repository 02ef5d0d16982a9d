"""The conformance suite's wall time and test count: the server role against the local platform
loaded with a published cohort, serial and with pytest-xdist, and (when part B's harness is
present) the producer and consumer roles against the reference EPJ.

    .venv/bin/python -m bench.run --only suite
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from mock_platform import PlatformConfig, create_app, start_in_thread
from sandbox.loop import DevelopmentCaller, load_cohort
from synthetic_data import CohortSpec, write_cohort


def _suite(target: str, cohort: Path, out: Path, extra: list[str]) -> dict:
    junit = out / "junit.xml"
    command = [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite", "-q", "-p", "no:cacheprovider",
               "--role=server", f"--target-url={target}", f"--cohort={cohort}", f"--report-dir={out}",
               f"--junitxml={junit}", *extra]
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    root = ET.parse(junit).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    counts = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
    report = json.loads((out / "report.json").read_text())
    failed = sorted(r["id"] for r in report["requirements"] if r["status"] == "failed")
    return {"seconds": round(seconds, 2), **counts, "failed_requirements": failed}


def run(size: int = 100, sample_size: int = 25) -> dict:
    figures: dict = {"patients": size, "sample_size": sample_size}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        write_cohort(CohortSpec(size=size, seed=42), work / "cohort")
        app = create_app(PlatformConfig(database=str(work / "platform.sqlite3"), tenants=("0301",), auth="off-dev"))
        with start_in_thread(app) as server:
            target = f"{server.url}/0301/fhir"
            load_cohort(target, work / "cohort", auth=DevelopmentCaller())   # as the cohort's source system
            for name, extra in (("serial", []), ("xdist2", ["-n", "2"])):
                result = _suite(target, work / "cohort", work / name, [f"--sample-size={sample_size}", *extra])
                figures |= {f"server_{name}_{k}": v for k, v in result.items()}
        figures |= _epj_roles(work)
    return figures


def _epj_roles(work: Path) -> dict:
    """Producer and consumer against the reference EPJ (part B's harness), when it exists."""
    try:
        from conformance.reference_epj import Defect  # noqa: F401
        from tests.suite_epj.harness import load_cohort as load_epj_cohort, run_variant
    except ImportError:
        return {"epj_roles": "reference EPJ harness not available"}
    write_cohort(CohortSpec(size=20, seed=7), work / "epj-cohort")
    app = create_app(PlatformConfig(database=str(work / "epj-platform.sqlite3"), tenants=("0301",), auth="off-dev"))
    load_epj_cohort(app, work / "epj-cohort")
    started = time.perf_counter()
    result = run_variant(app, work / "epj-cohort", work / "epj", frozenset(), ("producer", "consumer"))
    ran = len({test for r in result.report["requirements"] for test in r["tests"]})
    return {"epj_roles_seconds": round(time.perf_counter() - started, 2), "epj_roles_tests": ran,
            "epj_roles_requirements": len(result.report["requirements"]),
            "epj_roles_failed": sorted(result.failed())}
