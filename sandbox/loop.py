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


DEMO_ORGANISATION_SEED = 42     # the demo's EPJ organisation: a synthetic organisation number


class DevelopmentCaller(httpx.Auth):
    """Names the calling system on a platform running with the development flag (auth "off-dev"),
    where the caller is given by a header instead of a HelseID token. Loading a cohort as its
    source system lets the suite (the default development client) read as a consumer."""

    def __init__(self, client_id: str = "kommunens-plo-epj") -> None:
        self.client_id = client_id

    def auth_flow(self, request: httpx.Request):
        request.headers["X-Sandkasse-Dev-Client"] = self.client_id
        yield request


def load_cohort(base_url: str, cohort_dir: Path, auth: httpx.Auth | None = None) -> int:
    """POST each patient's transaction Bundle to the platform's intake; returns the number loaded."""
    loaded = 0
    with httpx.Client(timeout=30.0, auth=auth) as client, \
            (cohort_dir / "bundles.ndjson").open(encoding="utf-8") as lines:
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


def register_client(platform_root: str, tenant: str, out: Path, name: str = "sandkasse demo EPJ") -> Path:
    """Register a HelseID client in the sandbox, with every scope it offers, exactly as a vendor
    does with `sandkasse client register`."""
    import random

    from sandbox.cli import main as sandkasse
    from synthetic_data.identifiers import synthetic_orgnr
    discovery = httpx.get(f"{platform_root}/helseid/.well-known/openid-configuration", timeout=30).json()
    organisation = synthetic_orgnr(random.Random(DEMO_ORGANISATION_SEED))
    args = ["client", "register", "--platform", platform_root, "--name", name,
            "--organisation", organisation, "--tenant", tenant, "--out", str(out)]
    for scope in discovery["scopes_supported"]:
        args += ["--scope", scope]
    if sandkasse(args) != 0:
        raise RuntimeError("registering the demo's HelseID client failed")
    return out


def run_demo(out: Path, seed: int = 42, size: int = 50, kommunenummer: str = "0301",
             auth: str = "helseid") -> LoopResult:
    """The whole loop. With auth "helseid" (the default) the platform enforces HelseID and DPoP:
    the cohort is loaded and read with a registered client, and the suite also checks that every
    broken token kind is refused."""
    cohort_dir, report_dir = out / "cohort", out / "report"
    write_cohort(CohortSpec(size=size, seed=seed, kommunenummer=kommunenummer), cohort_dir)
    app = create_app(PlatformConfig(database=str(out / "platform.sqlite3"), tenants=(kommunenummer,), auth=auth))
    with start_in_thread(app) as server:
        target_url = f"{server.url}/{kommunenummer}/fhir"
        extra: list[str] = []
        client = None
        if auth == "helseid":
            # Two systems, as in a municipality: the PLO EPJ that is the source of the cohort, and
            # the EPJ under verification, which reads shared data it does not own (so it sees what
            # a consumer sees: no vedtak free text, no write access to the source's data).
            from conformance.auth import HelseIdAuth, HelseIdClientConfig
            source = register_client(server.url, kommunenummer, out / "source-client.json",
                                     name="kommunens PLO EPJ (kilde)")
            client = HelseIdAuth(HelseIdClientConfig.load(source))
            config_path = register_client(server.url, kommunenummer, out / "client.json")
            extra = [f"--client-config={config_path}", f"--platform-admin-url={server.url}"]
        load_cohort(target_url, cohort_dir, auth=client)
        exit_code = run_suite(target_url, cohort_dir, report_dir, extra)
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    counts: dict[str, int] = {}
    for req in report["requirements"]:
        counts[req["status"]] = counts.get(req["status"], 0) + 1
    return LoopResult(exit_code, target_url, cohort_dir,
                      {"json": report_dir / "report.json", "html": report_dir / "report.html",
                       "junit": report_dir / "junit.xml"},
                      report["verdict"], counts)
