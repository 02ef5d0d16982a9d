"""Every generated resource passes the platform's validator against the profile it names."""
from conformance.validator import Validator


def test_generated_resources_pass_the_validator(default_cohort, shared) -> None:
    validator = Validator.default()
    # the shared resources, every persona, and the first 200 random patients (the rest are the same code paths)
    patients = [p for p in default_cohort if p.persona] + [p for p in default_cohort if not p.persona][:200]
    resources = shared + [r for p in patients for r in p.resources]
    errors = []
    for resource in resources:
        for issue in validator.validate(resource):
            if issue.severity in ("error", "fatal"):
                errors.append(f"{resource['resourceType']}/{resource['id']}: {issue.message}")
    assert not errors, f"{len(errors)} validation errors, e.g. {errors[:5]}"
