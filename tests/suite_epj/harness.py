"""Runs the conformance suite's producer and consumer roles against the reference EPJ (clean or
with one defect) on the REAL mock platform: each variant gets a fresh tenant (seeded with the
whole cohort) on a platform served with `mock_platform.start_in_thread`, and its own EPJ
on a free port; the suite runs over HTTP and writes report.json, which is what the tests judge.

Two platforms per test process (docs/scenario-protocol.md, "Proving the suite"):
- HelseID enforced, for the clean EPJ and every defect the platform lets through or refuses on
  its data: the EPJ logs in at the platform's HelseID with conformance.auth.HelseIdAuth;
- the development flag (tokens not enforced), for the defects of the EPJ's own HelseID token or
  DPoP proof (`platform: development` in defects.yaml): enforcement would refuse the EPJ's very
  first request, so no data would arrive and every requirement would fail. The suite judges
  identity from the request log on either platform.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conformance.auth import HelseIdClientConfig, dpop
from conformance.reference_epj import Defect, EpjConfig, create_app as create_epj, defect_catalog
from conformance.reference_epj.epj import CONFIG_ENV
from conformance.suite.roles.sandbox import OPERATOR_TOKEN_ENV
from mock_platform import PlatformConfig, create_app, start_in_thread

KOMMUNE = "0301"
OPERATOR = "suite-epj-operator"         # the test platforms' operator token
EPJ_ORG = "310000000"                   # synthetic organisation numbers (Tenor space, mod-11)
SUITE_ORG = "310000027"
API = "nhn:sandkasse-plattform"
SERVICES = ("kommunale-tjenester", "news2-malinger")
TOKEN_LIFETIME = 2   # seconds: the development issuer's tokens, so a token kept past expiry shows
MODULES = {"producer": "conformance.suite.roles.test_producer",
           "consumer": "conformance.suite.roles.test_consumer"}


@dataclass
class Platform:
    url: str
    secure: bool
    epj_client: HelseIdClientConfig | None = None     # the EPJ's registered HelseID client
    suite_client: Path | None = None                  # the suite's own (--client-config)

    def admin(self, method: str, path: str, headers: dict | None = None, **kwargs) -> httpx.Response:
        return httpx.request(method, f"{self.url}/admin{path}", timeout=30.0,
                             headers={"Authorization": f"Bearer {OPERATOR}", **(headers or {})}, **kwargs)

    def new_tenant(self, cohort: Path) -> str:
        """A fresh tenant copying kommune 0301, seeded with the whole published cohort (as a
        hosted sandbox is): the scenarios' patients' data is the cohort's plus what the
        scenarios write and seed, and the roles' checks compare only what the scenarios made."""
        tenant = f"v-{uuid.uuid4().hex[:12]}"
        created = self.admin("POST", "/tenants", json={"id": tenant, "kind": "vendor", "kommunenummer": KOMMUNE,
                                                       "organisations": [EPJ_ORG, SUITE_ORG]})
        assert created.status_code == 201, created.text
        seeded = self.admin("POST", f"/tenants/{tenant}/seed", content=(cohort / "bundles.ndjson").read_bytes(),
                            headers={"Content-Type": "application/x-ndjson"})
        assert seeded.status_code == 200, seeded.text
        return tenant


def register(issuer: str, name: str, organisation: str, scopes: list[str]) -> HelseIdClientConfig:
    key = dpop.generate_key()
    response = httpx.post(f"{issuer}/admin/clients", json={
        "client_name": name, "jwk": dpop.public_jwk(key), "scopes": scopes, "organisations": [organisation],
        "tenancy": "single"})
    assert response.status_code == 201, response.text
    return HelseIdClientConfig(issuer=issuer, client_id=response.json()["client_id"], scopes=scopes,
                               organisation={"parent": organisation}, private_jwk=key.as_dict(private=True))


class Platforms:
    """The two test platforms of one test process, started once."""

    def __init__(self, folder: Path) -> None:
        config = {"tenants": (), "extra": {"OPERATOR_TOKEN": OPERATOR}}
        self._secure_app = create_app(PlatformConfig(database=str(folder / "secure.sqlite3"), auth="helseid", **config))
        self._dev_app = create_app(PlatformConfig(database=str(folder / "dev.sqlite3"), auth="off-dev", **config))
        self._servers = [start_in_thread(self._secure_app), start_in_thread(self._dev_app)]
        secure_url, dev_url = (s.url for s in self._servers)
        issuer = f"{secure_url}/helseid"
        scopes = [f"{API}/{s}.{a}" for s in SERVICES for a in ("read", "write")]
        suite = register(issuer, "sandkasse conformance suite", SUITE_ORG, [s for s in scopes if s.endswith(".read")])
        suite_file = folder / "suite-client.json"
        suite.save(suite_file)
        self.secure = Platform(secure_url, True, register(issuer, "sandkasse reference EPJ", EPJ_ORG, scopes),
                               suite_file)
        self.development = Platform(dev_url, False)

    def for_defects(self, defects: frozenset[Defect]) -> Platform:
        catalog = defect_catalog()
        development = any(catalog[d.value].platform == "development" for d in defects)
        return self.development if development else self.secure

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
        for app in (self._secure_app, self._dev_app):
            app.extensions["sandkasse.storage"].close()


@dataclass
class SuiteRun:
    returncode: int
    report: dict
    output: str
    platform: Platform
    tenant: str

    def statuses(self, prefix: tuple[str, ...] = ("SK-PROD-", "SK-CONS-")) -> dict[str, str]:
        return {r["id"]: r["status"] for r in self.report["requirements"] if r["id"].startswith(prefix)}

    def failed(self) -> dict[str, str]:
        return {r["id"]: r.get("message") or "" for r in self.report["requirements"] if r["status"] == "failed"}

    def requests(self) -> list[dict]:
        """The tenant's request log, as the platform kept it."""
        response = self.platform.admin("GET", f"/tenants/{self.tenant}/requests", params={"limit": 10_000})
        assert response.status_code == 200, response.text
        return response.json()["requests"]


def run_variant(platforms: Platforms, cohort: Path, work: Path, defects: frozenset[Defect], roles: tuple[str, ...],
                adapter: str = "http", in_process: bool = True) -> SuiteRun:
    """One suite run against one EPJ variant. In-process (pytest.main) by default: the variants
    then share one interpreter and one compiled validator, which keeps 30+ runs fast."""
    work.mkdir(parents=True, exist_ok=True)
    platform = platforms.for_defects(defects)
    tenant = platform.new_tenant(cohort)
    platform_url = f"{platform.url}/{tenant}/fhir"
    config = EpjConfig(platform_url=platform_url, cohort=cohort, organisation=EPJ_ORG, defects=defects,
                       helseid=platform.epj_client, timeout=0.5, token_lifetime=TOKEN_LIFETIME)
    with start_in_thread(create_epj(config)) as epj:
        if Defect.STALE_TOKEN in defects:
            # Let the token it logged in with at start-up expire: exp is rounded up to a whole
            # second (up to 1 s after iat + lifetime), so wait past that on any machine speed.
            time.sleep(TOKEN_LIFETIME + 1.1)
        env = {OPERATOR_TOKEN_ENV: OPERATOR}
        if adapter == "http":
            spec = f"{epj.url}/test-control/steps"
        else:
            config_file = work / "epj.json"
            config_file.write_text(json.dumps({
                "platform_url": platform_url, "cohort": str(cohort), "organisation": EPJ_ORG,
                "defects": sorted(defects), "timeout": 0.5, "token_lifetime": TOKEN_LIFETIME,
                "helseid": platform.epj_client.__dict__ if platform.epj_client else None}))
            spec = "python:conformance.reference_epj.epj:ReferenceEpj"
            env[CONFIG_ENV] = str(config_file)
        args = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-W", "ignore::pytest.PytestAssertRewriteWarning",
                "--pyargs", *[MODULES[r] for r in roles],
                "--platform-url", platform_url, "--platform-admin-url", platform.url,
                "--adapter", spec, "--cohort", str(cohort), "--report-dir", str(work / "report")]
        if platform.suite_client is not None:
            args += ["--client-config", str(platform.suite_client)]
        returncode, output = (_in_process if in_process else _subprocess)(args, work, env)
    report_file = work / "report" / "report.json"
    if not report_file.is_file():
        raise AssertionError(f"the suite wrote no report:\n{output[-3000:]}")
    return SuiteRun(returncode, json.loads(report_file.read_text()), output, platform, tenant)


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
