"""Shared fixtures of the project's own tests: a real platform on a free localhost port."""
from __future__ import annotations

from pathlib import Path

import pytest

from mock_platform import PlatformConfig, create_app, start_in_thread
from synthetic_data import CohortSpec, write_cohort
from tests.robustness.figures import pytest_terminal_summary  # noqa: F401  (a hook: prints robustness figures)


@pytest.fixture(scope="session")
def small_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cohort")
    write_cohort(CohortSpec(size=20, seed=7), folder)
    return folder


@pytest.fixture()
def platform(tmp_path: Path):
    """A fresh platform (tenant 0301) on SQLite in a temp folder, served over real HTTP."""
    app = create_app(PlatformConfig(database=str(tmp_path / "platform.sqlite3"), tenants=("0301",), auth="off-dev"))
    with start_in_thread(app) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_cluster():
    """A real scratch PostgreSQL server for this test session (per xdist worker)."""
    from tests.pg import start_cluster
    cluster = start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def postgres_dsn(postgres_cluster) -> str:
    """DSN of the session's PostgreSQL server (database `postgres`). Tests that need an empty
    database of their own use `postgres_cluster.create_database()`."""
    return postgres_cluster.dsn
