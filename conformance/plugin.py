"""The sandkasse pytest plugin: options, test selection, fixtures, evidence and the report.

It is passive unless `--target-url` or `--platform-url` is given, so it never disturbs other
pytest runs. It works alone and under pytest-xdist: each worker annotates its test reports (the
requirement IDs, the failure's message and fix, the evidence hash) in `user_properties`, which
xdist forwards, and the controller aggregates them in `pytest_runtest_logreport` and writes the
one report for the whole run.

Exit codes are pytest's: 0 every selected test passed, 1 some failed (a requirement is not met),
4 a usage or configuration error (said in one line), 5 nothing was selected.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from conformance import __version__
from conformance.checks import ConformanceFailure
from conformance.evidence import EvidenceLog
from conformance.ground_truth import GroundTruth
from conformance.requirements import ROLES, load_catalog

SELECTABLE_ROLES = tuple(r for r in ROLES if r != "all")
FAILURE_KEY, REQUIREMENTS_KEY, EVIDENCE_KEY, FLOW_KEY = ("sandkasse_failure", "requirements", "evidence_sha256",
                                                          "data_flow")
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sandkasse", "sandkasse conformance suite")
    group.addoption("--target-url", help="FHIR base URL of the system under test (server role)")
    group.addoption("--cohort", help="folder of the published cohort (manifest.json + NDJSON) loaded in the target")
    group.addoption("--report-dir", help="where to write report.json and report.html")
    group.addoption("--sample-size", type=int, default=25, help="patients checked per test (default 25)")
    group.addoption("--role", action="append", default=[], choices=SELECTABLE_ROLES,
                    help="verify this role only (repeatable): tests are selected by their requirements' role")
    group.addoption("--requirement", action="append", default=[], metavar="ID",
                    help="run only the tests of this requirement (repeatable)")
    group.addoption("--platform-url", help="the sandbox platform's tenant FHIR base (producer and consumer roles)")
    group.addoption("--platform-admin-url", help="the sandbox platform's root, for /admin and /helseid")
    group.addoption("--helseid-url", help="the sandbox HelseID (default: <platform-admin-url>/helseid)")
    group.addoption("--adapter", help="how the suite drives the EPJ: python:module:Class or the http(s) URL "
                                      "of the vendor's test-control endpoint")
    group.addoption("--client-config", help="HelseID client config (JSON) for the suite's authenticated calls")
    group.addoption("--evidence", action="store_true",
                    help="record every request and response per test (secrets redacted) under <report-dir>/evidence")
    group.addoption("--vendor-orgnr", help="the vendor's organisation number, for the report")
    group.addoption("--product", help="the product verified, for the report")
    group.addoption("--product-version", help="the exact version or build verified, for the report")
    group.addoption("--attempt", type=int, default=1, help="the attempt number of this verification")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): catalog requirements a test verifies")
    if not (config.getoption("--target-url") or config.getoption("--platform-url")):
        return
    _check_options(config)
    config.pluginmanager.register(Annotator(config), "sandkasse-annotator")
    if not hasattr(config, "workerinput"):     # the xdist controller, or a run without xdist
        config.pluginmanager.register(RunRecorder(config), "sandkasse-recorder")


def _check_options(config: pytest.Config) -> None:
    """Configuration errors are usage errors: one clear line, exit code 4, before any test runs."""
    for option in ("--target-url", "--platform-url", "--platform-admin-url", "--helseid-url"):
        url = config.getoption(option)
        if url and urlsplit(url).scheme not in ("http", "https"):
            raise pytest.UsageError(f"{option} {url!r} is not an http(s) URL")
    unknown = [r for r in config.getoption("--requirement") if r not in load_catalog()]
    if unknown:
        raise pytest.UsageError(f"--requirement {unknown[0]} is not in the catalog (see `sandkasse requirements`)")
    cohort = config.getoption("--cohort")
    if cohort and not (Path(cohort) / "manifest.json").is_file():
        raise pytest.UsageError(f"--cohort {cohort}: no manifest.json there; generate one with `sandkasse cohort`")
    client_config = config.getoption("--client-config")
    if client_config and not Path(client_config).is_file():
        raise pytest.UsageError(f"--client-config {client_config}: no such file")
    if config.getoption("--evidence") and not config.getoption("--report-dir"):
        raise pytest.UsageError("--evidence needs --report-dir (the evidence is written under it)")


def selected_roles(config: pytest.Config) -> frozenset[str]:
    """The roles verified: as given with --role, else those the options configure (a server
    target, and a platform plus an adapter for the producer and consumer roles)."""
    if config.getoption("--role"):
        return frozenset(config.getoption("--role"))
    roles = {"server"} if config.getoption("--target-url") else set()
    if config.getoption("--platform-url") and config.getoption("--adapter"):
        roles |= {"producer", "consumer"}
    return frozenset(roles)


def item_requirements(item: pytest.Item) -> tuple[str, ...]:
    ids: list[str] = []
    for marker in item.iter_markers("requirement"):
        ids += [i for i in marker.args if i not in ids]
    return tuple(ids)


@dataclass(eq=False)  # pluggy keeps plugins in sets: identity hashing
class Annotator:
    """In every process that runs tests: selection, evidence, and what each test report carries."""
    config: pytest.Config
    evidence: EvidenceLog = field(default_factory=EvidenceLog)
    flow: dict[str, int] = field(default_factory=dict)      # "read|Patient" -> requests, this test

    def hooks(self) -> dict:
        """httpx event hooks for every client the suite sends through: evidence and data flow."""
        return {"response": [self._count, *self.evidence.hooks()["response"]]}

    def _count(self, response: httpx.Response) -> None:
        path = response.request.url.path.rstrip("/").split("/")
        rtype = next((p for p in reversed(path) if p[:1].isupper() and p.isalpha()), "metadata")
        key = f"{'write' if response.request.method in WRITES else 'read'}|{rtype}"
        self.flow[key] = self.flow.get(key, 0) + 1

    def __post_init__(self) -> None:
        if self.config.getoption("--evidence"):
            self.evidence.folder = Path(self.config.getoption("--report-dir")) / "evidence"

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        roles, wanted = selected_roles(config), set(config.getoption("--requirement"))
        if not roles and not wanted:
            return
        catalog = load_catalog()
        keep, drop = [], []
        for item in items:
            reqs = [catalog[r] for r in item_requirements(item) if r in catalog]
            ok = (not wanted or any(r.id in wanted for r in reqs)) and \
                 (not roles or any(r.role in roles for r in reqs))
            (keep if ok else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.evidence.start(item.nodeid)
        self.flow = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = (yield).get_result()
        if call.when == "setup":
            report.user_properties.append((REQUIREMENTS_KEY, ",".join(item_requirements(item))))
        error = call.excinfo.value if call.excinfo else None
        if report.failed and isinstance(error, ConformanceFailure):
            report.user_properties.append((FAILURE_KEY, json.dumps({"message": error.message, "fix": error.fix},
                                                                   ensure_ascii=False)))
        if call.when == "teardown":
            if self.flow:
                report.user_properties.append((FLOW_KEY, json.dumps(self.flow)))
            written = self.evidence.finish()
            if written:
                report.user_properties.append((EVIDENCE_KEY, written[1]))


@dataclass
class TestOutcome:
    nodeid: str
    requirements: tuple[str, ...] = ()
    outcome: str = "passed"
    message: str | None = None
    fix: str | None = None
    evidence_sha256: str | None = None


@dataclass(eq=False)
class RunRecorder:
    """On the controller only: aggregates every test report and writes the run's report."""
    config: pytest.Config
    started: str = field(default_factory=lambda: _now())
    outcomes: dict[str, TestOutcome] = field(default_factory=dict)
    flow: dict[str, int] = field(default_factory=dict)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = self.outcomes.setdefault(report.nodeid, TestOutcome(report.nodeid))
        props = dict(report.user_properties)
        if props.get(REQUIREMENTS_KEY):
            outcome.requirements = tuple(props[REQUIREMENTS_KEY].split(","))
        if props.get(EVIDENCE_KEY):
            outcome.evidence_sha256 = props[EVIDENCE_KEY]
        for key, count in json.loads(props.get(FLOW_KEY, "{}")).items():
            self.flow[key] = self.flow.get(key, 0) + count
        if report.failed and outcome.outcome != "failed":
            outcome.outcome = "failed"
            if FAILURE_KEY in props:
                failure = json.loads(props[FAILURE_KEY])
                outcome.message, outcome.fix = failure["message"], failure["fix"]
            else:   # not a conformance finding: the test itself broke, say so with the error
                outcome.message = f"test error ({report.when}): {report.longreprtext.strip().splitlines()[-1:]}"
        elif report.skipped and outcome.outcome == "passed":
            outcome.outcome = "skipped"
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            outcome.message = reason.removeprefix("Skipped: ")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        report_dir = self.config.getoption("--report-dir")
        if not report_dir:
            return
        from reports import write
        report = build_report(self.config, self.started, _now(), list(self.outcomes.values()), self.flow)
        paths = write(report, Path(report_dir))
        self.config._sandkasse_report = (report.verdict, paths)  # read by the terminal summary

    def pytest_terminal_summary(self, terminalreporter) -> None:
        verdict, paths = getattr(self.config, "_sandkasse_report", (None, None))
        if paths:
            terminalreporter.write_line(f"sandkasse: {verdict}; report {paths['json']} and {paths['html']}")


def build_report(config: pytest.Config, started: str, finished: str, outcomes: list[TestOutcome],
                 flow: dict[str, int] | None = None):
    from reports import DECLARED, FAILED, NOT_APPLICABLE, PASSED, Report, RequirementResult
    by_requirement: dict[str, list[TestOutcome]] = {}
    for outcome in outcomes:
        for req_id in outcome.requirements:
            by_requirement.setdefault(req_id, []).append(outcome)
    roles, wanted = selected_roles(config), set(config.getoption("--requirement"))
    evidence_dir = Path(config.getoption("--report-dir")) / "evidence" if config.getoption("--evidence") else None
    results = []
    for req in load_catalog().values():
        if not req.applies_to(roles) or (wanted and req.id not in wanted):
            continue
        ran = by_requirement.get(req.id, [])
        failed = [o for o in ran if o.outcome == "failed"]
        if req.declared:
            status, message = DECLARED, None
        elif failed:
            status, message = FAILED, "; ".join(dict.fromkeys(o.message or "failed" for o in failed))
        elif any(o.outcome == "passed" for o in ran):
            status, message = PASSED, None
        else:
            reasons = sorted({o.message for o in ran if o.message})
            status, message = NOT_APPLICABLE, ("; ".join(reasons) if reasons else "no test of it was run")
        results.append(RequirementResult(
            id=req.id, title=req.title, level=req.level, status=status,
            tests=sorted(o.nodeid for o in ran), message=message,
            fix=(failed[0].fix or req.fix) if failed else None,
            **_known(RequirementResult, area=req.report_area or req.area,
                     evidence=_evidence(evidence_dir, failed) if failed and evidence_dir else [])))
    return Report(target=config.getoption("--target-url") or config.getoption("--platform-url"),
                  suite_version=__version__, started=started, finished=finished, requirements=results,
                  **_known(Report, **_run_metadata(config), data_flow=_data_flow(flow or {})))


def _data_flow(flow: dict[str, int]) -> list:
    """What the suite observed the target serve (read) or accept (write), per resource type."""
    try:
        from reports import DataFlow
    except ImportError:
        return []
    return [DataFlow(client="sandkasse conformance suite", resource_type=rtype, direction=direction, count=count)
            for (direction, rtype), count in sorted((tuple(k.split("|", 1)), v) for k, v in flow.items())]


def _tls_fingerprint(url: str | None) -> str | None:
    """Best effort: an unreachable target has failed its tests already; the report says so there."""
    from conformance.evidence import tls_fingerprint
    try:
        return tls_fingerprint(url)
    except (OSError, ValueError):
        return None


def _evidence(folder: Path, failed: list[TestOutcome]) -> list:
    """The recorded exchanges of the failing tests (already redacted), hashed into the report."""
    from conformance.evidence import safe_name
    from reports import Evidence
    items = []
    for outcome in failed[:5]:
        path = folder / f"{safe_name(outcome.nodeid)}.json"
        if path.is_file():
            items.append(Evidence(label=outcome.nodeid, content=path.read_text(encoding="utf-8"),
                                  media_type="application/json"))
    return items


def _run_metadata(config: pytest.Config) -> dict:
    """What the report binds to: product and version, roles, guide, catalog, cohort, attempt."""
    from conformance.requirements import catalog_sha256
    metadata: dict = {"attempt": config.getoption("--attempt"),
                      "tls_fingerprint": _tls_fingerprint(config.getoption("--target-url"))}
    try:
        from reports import Product, Provenance
    except ImportError:
        return metadata
    metadata["product"] = Product(vendor_org=config.getoption("--vendor-orgnr"), name=config.getoption("--product"),
                                  version=config.getoption("--product-version"),
                                  roles=sorted(selected_roles(config)) or list(SELECTABLE_ROLES))
    provenance = {"catalog_sha256": catalog_sha256()}
    try:
        from conformance import ig
        provenance |= {"ig_package": ig.PACKAGE_ID, "ig_version": ig.PACKAGE_VERSION, "ig_sha256": ig.package_sha256()}
    except (ImportError, AttributeError, FileNotFoundError, OSError):
        pass   # the guide package is not built yet: the report says nothing about it rather than guess
    cohort = config.getoption("--cohort")
    if cohort:
        manifest = json.loads((Path(cohort) / "manifest.json").read_text(encoding="utf-8"))
        provenance |= {"cohort_seed": manifest.get("seed"), "cohort_generator_version": manifest.get("generator_version"),
                       "cohort_sha256": manifest.get("content_sha256")}
    metadata["provenance"] = Provenance(**_known(Provenance, **provenance))
    return metadata


def _known(cls, **values) -> dict:
    """Only the fields the report model has: the plugin keeps working while the model grows."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in values.items() if k in names}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def target_url(pytestconfig: pytest.Config) -> str:
    url = pytestconfig.getoption("--target-url")
    if not url:
        pytest.fail("the server role needs --target-url (the FHIR base URL of the system under test)")
    return url.rstrip("/")


def _evidence_hooks(config: pytest.Config) -> dict:
    annotator = config.pluginmanager.get_plugin("sandkasse-annotator")
    return annotator.hooks() if annotator else {}


@pytest.fixture(scope="session")
def target(target_url: str, pytestconfig: pytest.Config):
    """The system under test, authenticated with HelseID when --client-config is given."""
    auth = None
    client_config = pytestconfig.getoption("--client-config")
    if client_config:
        from conformance.auth import HelseIdAuth, HelseIdClientConfig   # lazy: only runs that log in need it
        auth = HelseIdAuth(HelseIdClientConfig.load(client_config))
    with httpx.Client(base_url=target_url + "/", timeout=15.0, auth=auth, event_hooks=_evidence_hooks(pytestconfig),
                      headers={"Accept": "application/fhir+json"}) as client:
        yield client


@pytest.fixture(scope="session")
def target_unauthenticated(target_url: str, pytestconfig: pytest.Config):
    """The system under test without any credentials (for the refusal checks)."""
    with httpx.Client(base_url=target_url + "/", timeout=15.0, event_hooks=_evidence_hooks(pytestconfig),
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


@pytest.fixture(scope="session")
def platform_url(pytestconfig: pytest.Config) -> str:
    url = pytestconfig.getoption("--platform-url")
    if not url:
        pytest.fail("the producer and consumer roles need --platform-url (the sandbox tenant's FHIR base)")
    return url.rstrip("/")


@pytest.fixture(scope="session")
def platform_admin_url(pytestconfig: pytest.Config) -> str | None:
    url = pytestconfig.getoption("--platform-admin-url")
    return url.rstrip("/") if url else None


@pytest.fixture(scope="session")
def helseid_url(pytestconfig: pytest.Config, platform_admin_url: str | None) -> str | None:
    url = pytestconfig.getoption("--helseid-url")
    if url:
        return url.rstrip("/")
    return f"{platform_admin_url}/helseid" if platform_admin_url else None


@pytest.fixture(scope="session")
def adapter_spec(pytestconfig: pytest.Config) -> str:
    spec = pytestconfig.getoption("--adapter")
    if not spec:
        pytest.fail("this role drives the EPJ and needs --adapter (python:module:Class or the test-control URL)")
    return spec


@pytest.fixture(scope="session")
def client_config_path(pytestconfig: pytest.Config) -> Path | None:
    path = pytestconfig.getoption("--client-config")
    return Path(path) if path else None
