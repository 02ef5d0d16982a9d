"""Fixtures of the server-role tests. All session-scoped and lazy, so every test runs alone."""
from __future__ import annotations

import httpx
import pytest

from conformance.ground_truth import GroundTruth
from conformance.suite.server import support


class Served:
    """What the target serves for the sampled part of the cohort, fetched once per session."""

    def __init__(self, client: httpx.Client, truth: GroundTruth, sample_size: int) -> None:
        self.client, self.truth, self.sample_size = client, truth, sample_size
        self._reads: dict[str, httpx.Response] = {}

    def read(self, ref: str) -> httpx.Response:
        if ref not in self._reads:
            self._reads[ref] = self.client.get(ref)
        return self._reads[ref]

    def expected(self, rtype: str) -> list[dict]:
        """The cohort's resources of a type that the tests look at: those of the sampled patients."""
        spec = support.types().get(rtype)
        if spec and spec.patient:
            return [r for p in self.truth.patients(self.sample_size)
                    for r in self.truth.for_patient(rtype, spec.patient, p["id"])]
        return self.truth.sample(rtype, self.sample_size)

    def resources(self, rtype: str) -> list[dict]:
        """The target's copies of `expected(rtype)`; a read that fails is the read test's business."""
        out = []
        for resource in self.expected(rtype):
            response = self.read(f"{rtype}/{resource['id']}")
            if response.status_code == 200:
                try:
                    out.append(response.json())
                except ValueError:
                    pass
        return out


@pytest.fixture(scope="session")
def served(target: httpx.Client, ground_truth: GroundTruth, sample_size: int) -> Served:
    return Served(target, ground_truth, sample_size)


@pytest.fixture(scope="session")
def minimised() -> frozenset[str]:
    return frozenset(support.guide()["minimised_extensions"])

