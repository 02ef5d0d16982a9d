"""Runs the conformance suite's server role against the reference EPJ's own FHIR API over real
HTTP: the EPJ (clean or with one server defect) on a free port, loaded with the published cohort,
HelseID-protected by a real mock platform's HelseID (which issues the suite's tokens and the
broken ones); the suite writes report.json, which is what the tests judge."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.reference_epj import EpjConfig, create_app
from conformance.reference_epj.resource_server import ApiSecurity
from conformance.reference_epj.server import ServerConfig
from mock_platform import PlatformConfig, create_app as create_platform, start_in_thread
from sandbox.loop import register_client

TENANT = "0301"


@dataclass
class HelseId:
    """The sandbox HelseID (a real mock platform) and a client registered in it for the suite."""
    root: str
    client_config: Path
    organisation: str

    @property
    def issuer(self) -> str:
        return f"{self.root}/helseid"

    def security(self) -> ApiSecurity:
        # The suite acts for the EPJ's own organisation, as a vendor verifying its own API does:
        # it must see everything it compares with the cohort, internal notes included.
        return ApiSecurity(issuer=self.issuer, organisations=frozenset({self.organisation}),
                           own_organisation=self.organisation)


@dataclass
class ServerRun:
    returncode: int
    report: dict

    def statuses(self) -> dict[str, str]:
        return {r["id"]: r["status"] for r in self.report["requirements"]}

    def failed(self) -> dict[str, str]:
        return {r["id"]: r.get("message") or "" for r in self.report["requirements"] if r["status"] == "failed"}


def start_helseid(folder: Path):
    """A context manager: the platform serving HelseID, with the suite's client registered."""
    app = create_platform(PlatformConfig(database=str(folder / "helseid.sqlite3"), tenants=(TENANT,)))
    server = start_in_thread(app)
    client = register_client(server.__enter__().url, TENANT, folder / "client.json", name="sandkasse suite")
    organisation = json.loads(client.read_text())["organisation"]["parent"]
    return server, HelseId(server.url, client, organisation)


def run_server_role(cohort: Path, work: Path, helseid: HelseId | None, defects: frozenset[str] = frozenset(),
                    sample_size: int = 4, extra: tuple[str, ...] = ()) -> ServerRun:
    """One suite run (in this process: the runs share one compiled validator) against one EPJ."""
    work.mkdir(parents=True, exist_ok=True)
    server = ServerConfig(security=helseid.security() if helseid else None, defects=defects)
    epj = create_app(EpjConfig(platform_url="http://127.0.0.1:9/0301/fhir", cohort=cohort), server)
    with start_in_thread(epj) as running:
        args = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-W", "ignore::pytest.PytestAssertRewriteWarning",
                "--pyargs", "conformance.suite.server", "--role=server", f"--target-url={running.url}/fhir",
                f"--cohort={cohort}", f"--report-dir={work / 'report'}", f"--sample-size={sample_size}", *extra]
        if helseid:
            args += [f"--client-config={helseid.client_config}", f"--helseid-url={helseid.issuer}"]
        returncode = int(pytest.main(args, plugins=[]))
    report_file = work / "report" / "report.json"
    if not report_file.is_file():
        raise AssertionError(f"the suite wrote no report (exit {returncode})")
    return ServerRun(returncode, json.loads(report_file.read_text(encoding="utf-8")))
