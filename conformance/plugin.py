"""The sandkasse pytest plugin: options, fixtures and the report written at the end of a run.

It is passive unless `--target-url` is given, so it never disturbs other pytest runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from conformance import __version__
from conformance.checks import ConformanceFailure
from conformance.ground_truth import GroundTruth
from conformance.requirements import load_catalog


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sandkasse", "sandkasse conformance suite")
    group.addoption("--target-url", help="FHIR base URL of the system under test")
    group.addoption("--cohort", help="folder of the published cohort (manifest.json + NDJSON) loaded in the target")
    group.addoption("--report-dir", help="where to write report.json and report.html")
    group.addoption("--sample-size", type=int, default=25, help="patients checked per test (default 25)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): catalog requirements a test verifies")
    if config.getoption("--target-url"):
        config.pluginmanager.register(RunRecorder(config), "sandkasse-recorder")


@dataclass
class TestOutcome:
    nodeid: str
    name: str
    requirements: tuple[str, ...]
    outcome: str = "passed"
    message: str | None = None
    fix: str | None = None


@dataclass(eq=False)  # pluggy keeps plugins in sets: identity hashing
class RunRecorder:
    config: pytest.Config
    started: str = field(default_factory=lambda: _now())
    outcomes: dict[str, TestOutcome] = field(default_factory=dict)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        result = (yield).get_result()
        marker_ids = tuple(i for m in item.iter_markers("requirement") for i in m.args)
        outcome = self.outcomes.setdefault(item.nodeid, TestOutcome(item.nodeid, item.originalname, marker_ids))
        if result.failed and outcome.outcome != "failed":
            outcome.outcome = "failed"
            error = call.excinfo.value if call.excinfo else None
            if isinstance(error, ConformanceFailure):
                outcome.message, outcome.fix = error.message, error.fix
            else:
                outcome.message = str(error) if error else result.longreprtext[-2000:]
        elif result.skipped and outcome.outcome == "passed":
            outcome.outcome = "skipped"

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        report_dir = self.config.getoption("--report-dir")
        if not report_dir:
            return
        from reports import write
        report = build_report(self.config.getoption("--target-url"), self.started, _now(),
                              list(self.outcomes.values()))
        paths = write(report, Path(report_dir))
        self.config._sandkasse_report_paths = paths  # read by the terminal summary


def build_report(target: str, started: str, finished: str, outcomes: list[TestOutcome]):
    from reports import DECLARED, FAILED, NOT_APPLICABLE, PASSED, Report, RequirementResult
    by_requirement: dict[str, list[TestOutcome]] = {}
    for outcome in outcomes:
        for req_id in outcome.requirements:
            by_requirement.setdefault(req_id, []).append(outcome)
    results = []
    for req in load_catalog().values():
        ran = by_requirement.get(req.id, [])
        failed = [o for o in ran if o.outcome == "failed"]
        if req.declared:
            status = DECLARED
        elif failed:
            status = FAILED
        elif any(o.outcome == "passed" for o in ran):
            status = PASSED
        else:
            status = NOT_APPLICABLE
        results.append(RequirementResult(
            id=req.id, title=req.title, level=req.level, status=status,
            tests=sorted(o.nodeid for o in ran),
            message="; ".join(o.message or "" for o in failed) or None,
            fix=(failed[0].fix or req.fix) if failed else None))
    return Report(target=target, suite_version=__version__, started=started, finished=finished,
                  requirements=results)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    paths = getattr(config, "_sandkasse_report_paths", None)
    if paths:
        terminalreporter.write_line(f"sandkasse report: {paths['json']} and {paths['html']}")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@pytest.fixture(scope="session")
def target_url(pytestconfig: pytest.Config) -> str:
    url = pytestconfig.getoption("--target-url")
    if not url:
        pytest.fail("the conformance suite needs --target-url (the FHIR base URL of the system under test)")
    return url.rstrip("/")


@pytest.fixture(scope="session")
def target(target_url: str):
    with httpx.Client(base_url=target_url + "/", timeout=10.0,
                      headers={"Accept": "application/fhir+json"}) as client:
        yield client


@pytest.fixture(scope="session")
def ground_truth(pytestconfig: pytest.Config) -> GroundTruth:
    folder = pytestconfig.getoption("--cohort")
    if not folder:
        pytest.fail("the conformance suite needs --cohort (the folder of the cohort loaded in the target)")
    return GroundTruth.load(Path(folder))


@pytest.fixture(scope="session")
def sample_size(pytestconfig: pytest.Config) -> int:
    return pytestconfig.getoption("--sample-size")
