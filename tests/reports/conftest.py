"""Fixtures of the report tests: a small report with a failure and evidence, and an operator key."""
from __future__ import annotations

import pytest

from report_support import make_report

from reports import Report
from reports.signing import generate_key


@pytest.fixture()
def report() -> Report:
    return make_report()


@pytest.fixture()
def passing_report() -> Report:
    return make_report(failing=False)


@pytest.fixture(scope="session")
def operator_key():
    return generate_key()


@pytest.fixture()
def operator(tmp_path):
    """A real platform on a free localhost port with the operator's token and a movable clock."""
    from mock_platform import PlatformConfig, create_app, start_in_thread
    from report_support import OPERATOR_TOKEN, Clock, Operator
    clock = Clock()
    app = create_app(PlatformConfig(database=str(tmp_path / "platform.sqlite3"), auth="off-dev",
                                    extra={"OPERATOR_TOKEN": OPERATOR_TOKEN, "OPERATOR_CLOCK": clock}))
    with start_in_thread(app) as server:
        client = Operator(server.url, clock)
        yield client
        client.http.close()
