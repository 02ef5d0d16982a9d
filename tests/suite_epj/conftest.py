"""Fixtures of the reference-EPJ tests: a cohort, and the real mock platforms (HelseID enforced,
and with the development flag) the variants run on, one fresh tenant each."""
from __future__ import annotations

from pathlib import Path

import pytest

from synthetic_data import CohortSpec, write_cohort
from tests.suite_epj.harness import KOMMUNE, Platforms


@pytest.fixture(scope="session")
def epj_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("epj-cohort")
    write_cohort(CohortSpec(size=6, seed=7, kommunenummer=KOMMUNE), folder)
    return folder


@pytest.fixture(scope="session")
def platforms(tmp_path_factory: pytest.TempPathFactory):
    started = Platforms(tmp_path_factory.mktemp("epj-platforms"))
    yield started
    started.stop()
