"""Fixtures of the producer and consumer roles: the EPJ (through its adapter), the sandbox
platform, and scenario runs recorded step by step with the requests each step caused."""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conformance.adapters import load_adapter
from conformance.ground_truth import GroundTruth
from conformance.scenarios import load_scenario
from conformance.suite.roles.driver import Driver
from conformance.suite.roles.sandbox import OPERATOR_TOKEN_ENV, SandboxPlatform


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
    platform = SandboxPlatform(platform_url, admin, auth, _evidence_hooks(pytestconfig),
                               operator_token=os.environ.get(OPERATOR_TOKEN_ENV))
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A run without --platform-url (the server role alone, e.g. `--target-url` only) cannot drive
    an EPJ through the sandbox: the producer and consumer tests are not selected, not failed."""
    if config.getoption("--platform-url", default=None):
        return
    here = Path(__file__).parent
    mine = [item for item in items if Path(item.path).is_relative_to(here)]
    if mine:
        config.hook.pytest_deselected(items=mine)
        items[:] = [item for item in items if not Path(item.path).is_relative_to(here)]
