"""The suite's HTTP view of the sandbox (conformance.suite.roles.sandbox) against the real
platform with HelseID enforced: the admin API needs the operator's token, and says so."""
from __future__ import annotations

from pathlib import Path

import pytest

from conformance.suite.roles.sandbox import OPERATOR_TOKEN_ENV, SandboxPlatform
from tests.suite_epj.harness import OPERATOR, Platforms


def test_admin_without_the_operator_token_is_a_clear_setup_error(platforms: Platforms, epj_cohort: Path) -> None:
    tenant = platforms.secure.new_tenant(epj_cohort)
    view = SandboxPlatform(f"{platforms.secure.url}/{tenant}/fhir", platforms.secure.url)
    with pytest.raises(RuntimeError, match=f"HTTP 401.*\\${OPERATOR_TOKEN_ENV}"):
        view.set_settings({"max_page_size": 5})
    view.close()


def test_request_log_and_settings_with_the_operator_token(platforms: Platforms, epj_cohort: Path) -> None:
    tenant = platforms.secure.new_tenant(epj_cohort)
    view = SandboxPlatform(f"{platforms.secure.url}/{tenant}/fhir", platforms.secure.url, operator_token=OPERATOR)
    assert view.tenant == tenant
    start = view.last_seq()
    view.set_settings({"max_page_size": 5})
    assert view.fhir.get("Patient").status_code == 401          # the view has no HelseID client here
    (logged,) = view.requests_since(start)
    assert (logged.method, logged.path, logged.status) == ("GET", "Patient", 401)
    assert logged.refusal.startswith("HTTP 401: ") and "token" in logged.refusal
    view.close()
