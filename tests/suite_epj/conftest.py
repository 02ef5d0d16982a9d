"""Fixtures of the reference-EPJ tests: a cohort, and a real mock platform loaded with it."""
from __future__ import annotations

from pathlib import Path

import pytest

from mock_platform import PlatformConfig, create_app
from synthetic_data import CohortSpec, write_cohort
from tests.suite_epj.harness import TENANT, load_cohort


@pytest.fixture(scope="session")
def epj_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("epj-cohort")
    write_cohort(CohortSpec(size=6, seed=7, kommunenummer=TENANT), folder)
    return folder


@pytest.fixture(scope="session")
def loaded_platform(tmp_path_factory: pytest.TempPathFactory, epj_cohort: Path):
    """The real platform app (not served on its own: each variant serves it behind its bridge)."""
    database = tmp_path_factory.mktemp("epj-platform") / "platform.sqlite3"
    app = create_app(PlatformConfig(database=str(database), tenants=(TENANT,), auth="off-dev"))
    load_cohort(app, epj_cohort)
    return app
