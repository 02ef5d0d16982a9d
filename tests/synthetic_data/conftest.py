"""A default cohort of 1,000 patients plus every persona, generated once per worker, in memory."""
from __future__ import annotations

import pytest

from synthetic_data import CohortSpec, iter_patients, shared_resources


@pytest.fixture(scope="session")
def default_spec() -> CohortSpec:
    return CohortSpec(size=1000, seed=42, personas=("all",))


@pytest.fixture(scope="session")
def default_cohort(default_spec: CohortSpec) -> list:
    return list(iter_patients(default_spec))


@pytest.fixture(scope="session")
def shared(default_spec: CohortSpec) -> list[dict]:
    return shared_resources(default_spec)
