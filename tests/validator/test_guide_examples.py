"""Zero errors on every example instance of the guide, each against the profile it names; and the
guide's profiles are all compiled at Validator.default() time."""
from __future__ import annotations

import pytest

from conformance import ig
from conformance.validator import Validator, is_error

EXAMPLES = ig.load_examples()


def test_every_profile_of_the_guide_is_compiled():
    profiles = Validator.default().profiles
    urls = {url for url, r in ig.load_package().items()
            if r["resourceType"] == "StructureDefinition" and r.get("derivation") == "constraint"}
    assert urls and urls <= set(profiles.urls)
    assert all(profiles.get(url) is not None for url in urls)


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e['resourceType']}-{e['id']}" for e in EXAMPLES])
def test_the_guide_example_has_no_errors(example):
    assert example.get("meta", {}).get("profile"), "every example names its profile"
    errors = [i for i in Validator.default().validate(example) if is_error(i)]
    assert errors == []


def test_an_example_breaks_when_its_profile_is_broken():
    """The examples are really checked against their profiles: drop a required element."""
    patient = next(e for e in EXAMPLES if e["resourceType"] == "Patient")
    broken = {k: v for k, v in patient.items() if k != "birthDate"}
    issues = Validator.default().validate(broken)
    assert any(i.rule == "cardinality-min" and i.expression == "Patient.birthDate" for i in issues)
