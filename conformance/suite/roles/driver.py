"""Driving the EPJ through its adapter, with each step's share of the platform's request log."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import pytest

from conformance.adapters import AdapterError, HttpAdapter
from conformance.ground_truth import GroundTruth
from conformance.scenarios import PROTOCOL, ProtocolError
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
    # The platform's refusal of an earlier step of the same scenario, if any: a later step
    # that depends on what the earlier one should have stored cannot succeed.
    earlier_refusal: str | None = None

    def refusal(self) -> str | None:
        """The platform's answer to the first of this step's intake requests that it refused."""
        return next((f"{self.step['step']} was refused by the platform ({r.refusal})"
                     for r in self.intake() if r.refusal), None)

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
