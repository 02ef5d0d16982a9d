"""Proving the suite: the reference EPJ passes every producer and consumer requirement, and each
defective variant (one defect switched on) fails exactly the requirements defects.yaml lists,
with a message that names the defect.

Every run has its own tenant on the real platform, its own EPJ and ports, so the variants spread
over xdist workers freely (tests/suite_epj/harness.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from conformance.reference_epj import Defect, defect_catalog
from conformance.requirements import load_catalog
from tests.suite_epj.harness import run_variant

ROLE_PREFIX = {"producer": "SK-PROD-", "consumer": "SK-CONS-"}


def test_clean_epj_passes_every_role(platforms, epj_cohort: Path, tmp_path: Path) -> None:
    run = run_variant(platforms, epj_cohort, tmp_path, frozenset(), ("producer", "consumer"))
    statuses = run.statuses()
    expected = {r for r in load_catalog() if r.startswith(("SK-PROD-", "SK-CONS-"))}
    assert set(statuses) == expected
    assert run.failed() == {}, run.failed()
    assert set(statuses.values()) == {"passed"}, statuses
    assert run.report["verdict"] == "verified"


def test_python_adapter_drives_the_same_epj(platforms, epj_cohort: Path, tmp_path: Path) -> None:
    run = run_variant(platforms, epj_cohort, tmp_path, frozenset(), ("consumer",), adapter="python")
    statuses = run.statuses(("SK-CONS-",))
    assert statuses and set(statuses.values()) == {"passed"}, run.failed()


@pytest.mark.parametrize("defect", sorted(defect_catalog()))
def test_defective_variant_fails_exactly_its_requirements(defect: str, platforms, epj_cohort: Path,
                                                          tmp_path: Path) -> None:
    spec = defect_catalog()[defect]
    run = run_variant(platforms, epj_cohort, tmp_path, frozenset({Defect(defect)}), (spec.role,))
    failed = run.failed()
    assert set(failed) == set(spec.fails), f"{defect}: expected {spec.fails}, the suite failed {failed}"
    for req_id, message in failed.items():
        assert spec.names.lower() in message.lower(), f"{defect}: {req_id}'s message does not name it: {message}"
    passed = {r for r, s in run.statuses((ROLE_PREFIX[spec.role],)).items() if s == "passed"}
    assert passed | set(failed) == {r for r in load_catalog() if r.startswith(ROLE_PREFIX[spec.role])}


def test_at_least_25_variants_cover_every_requirement() -> None:
    catalog = defect_catalog()
    assert len(catalog) >= 25
    assert set(catalog) == {d.value for d in Defect}
    covered = {r for spec in catalog.values() for r in spec.fails}
    roles = {r for r in load_catalog() if r.startswith(("SK-PROD-", "SK-CONS-"))}
    assert covered == roles, f"requirements no variant proves: {sorted(roles - covered)}"
