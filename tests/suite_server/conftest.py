"""Fixtures of the server-role tests against the reference EPJ: the sandbox HelseID (per worker)."""
from __future__ import annotations

import pytest

from tests.suite_server.runner import start_helseid


@pytest.fixture(scope="session")
def helseid(tmp_path_factory: pytest.TempPathFactory):
    server, started = start_helseid(tmp_path_factory.mktemp("helseid"))
    yield started
    server.__exit__(None, None, None)
