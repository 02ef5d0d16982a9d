"""Zero errors on a generated cohort: every resource against the profile in its meta.profile, and
every patient's transaction Bundle."""
from __future__ import annotations

from synthetic_data import CohortSpec, iter_patients, transaction_bundle
from synthetic_data.cohort import shared_resources

from conformance.validator import Validator, is_error

SPEC = CohortSpec(size=12, seed=2026)


def _errors(resource: dict) -> list[tuple]:
    return [(i.expression, i.rule, i.message) for i in Validator.default().validate(resource) if is_error(i)]


def test_shared_resources_have_no_errors():
    for resource in shared_resources(SPEC):
        assert _errors(resource) == [], resource["id"]


def test_every_generated_resource_has_no_errors():
    checked = 0
    for patient in iter_patients(SPEC):
        for resource in patient.resources:
            assert resource.get("meta", {}).get("profile"), f"{resource['resourceType']} names no profile"
            assert _errors(resource) == [], f"{resource['resourceType']}/{resource['id']}"
            checked += 1
    assert checked > 100


def test_every_patient_bundle_has_no_errors():
    for patient in list(iter_patients(SPEC))[:4]:
        assert _errors(transaction_bundle(patient)) == []
