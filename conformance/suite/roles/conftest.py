"""Fixtures of the producer and consumer roles: the EPJ (through its adapter), the sandbox
platform, and scenario runs recorded step by step with the requests each step caused."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from conformance.adapters import AdapterError, HttpAdapter, load_adapter
from conformance.ground_truth import GroundTruth
from conformance.scenarios import PROTOCOL, ProtocolError, load_scenario
from conformance.suite.roles.sandbox import LoggedRequest, SandboxPlatform

OID_FNR = "urn:oid:2.16.578.1.12.4.1.4.1"


@dataclass
class StepRecord:
    step: dict
    answer: dict | None
    requests: list[LoggedRequest]
    elapsed: float
    error: str | None = None                     # the adapter failed (timeout, protocol)
    stored: list[dict] = field(default_factory=list)  # what the platform holds after the step

    def intake(self) -> list[LoggedRequest]:
        return [r for r in self.requests if r.is_intake]

    def entries(self, rtype: str | None = None) -> list[dict]:
        return [e for r in self.intake() for e in r.entries()
                if rtype is None or (e.get("resource") or {}).get("resourceType") == rtype]


class Driver:
    """Performs steps on the EPJ and attributes the platform's request log to each step."""

    def __init__(self, adapter, sandbox: SandboxPlatform) -> None:
        self.adapter = adapter
        self.sandbox = sandbox

    def perform(self, name: str, params: dict, deadline: float | None = None) -> StepRecord:
        step = {"protocol": PROTOCOL, "id": str(uuid.uuid4()), "step": name, "params": params}
        before = self.sandbox.last_seq()
        started = time.monotonic()
        answer, error = None, None
        try:
            if deadline is not None and isinstance(self.adapter, HttpAdapter):
                answer = self.adapter.perform(step, timeout=deadline)
            else:
                answer = self.adapter.perform(step)
        except (AdapterError, ProtocolError) as exc:
            error = str(exc)
        elapsed = time.monotonic() - started
        return StepRecord(step, answer, self.sandbox.requests_since(before), elapsed, error)


@dataclass(frozen=True)
class CohortPatient:
    id: str
    fnr: str
    resource: dict


def cohort_patient(ground_truth: GroundTruth, index: int) -> CohortPatient:
    patients = ground_truth.sample("Patient", index + 1)
    if len(patients) <= index:
        pytest.fail(f"the scenario needs cohort patient #{index}, the cohort has {len(patients)}")
    patient = patients[index]
    fnr = next(i["value"] for i in patient["identifier"] if i.get("system") == OID_FNR)
    return CohortPatient(patient["id"], fnr, patient)


def _evidence_hooks(config: pytest.Config) -> dict:
    """The plugin's evidence recorder (--evidence): steps and platform queries become evidence."""
    annotator = config.pluginmanager.get_plugin("sandkasse-annotator")
    return annotator.evidence.hooks() if annotator else {}


@pytest.fixture(scope="session")
def sandbox(platform_url: str, platform_admin_url: str | None, client_config_path, pytestconfig):
    admin = platform_admin_url or "{0.scheme}://{0.netloc}".format(urlsplit(platform_url))
    auth = None
    if client_config_path:
        from conformance.auth import HelseIdAuth, HelseIdClientConfig
        auth = HelseIdAuth(HelseIdClientConfig.load(client_config_path))
    platform = SandboxPlatform(platform_url, admin, auth, _evidence_hooks(pytestconfig))
    yield platform
    platform.close()


@pytest.fixture(scope="session")
def driver(adapter_spec: str, sandbox: SandboxPlatform, pytestconfig) -> Driver:
    return Driver(load_adapter(adapter_spec, _evidence_hooks(pytestconfig)), sandbox)


@pytest.fixture(scope="session")
def run_token() -> str:
    """Makes this run's ids unique, so reruns against a long-lived sandbox never collide."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def kommunenummer(ground_truth: GroundTruth) -> str:
    return ground_truth.manifest.get("kommunenummer", "0301")


@pytest.fixture(scope="session")
def services() -> dict:
    return load_scenario("services")
