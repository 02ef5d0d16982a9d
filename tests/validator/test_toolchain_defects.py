"""Every defect of the table in toolchain-facts.md §4 (which no single reachable tool catches),
each found at the right FHIRPath location with a rule and a concrete fix."""
from __future__ import annotations

import copy

import pytest

from conformance.validator import Validator, is_error, operation_outcome

PATIENT = {
    "resourceType": "Patient", "id": "p1",
    "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": "13831356809"}],
    "name": [{"family": "Hansen", "given": ["Kari"]}], "gender": "female", "birthDate": "2013-03-13",
}
OBSERVATION = {
    "resourceType": "Observation", "id": "o1", "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
    "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2026-01-01T10:00:00+01:00",
    "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
}


def _with(base: dict, **changes) -> dict:
    resource = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            resource.pop(key, None)
        else:
            resource[key] = value
    return resource


DEFECTS = [
    ("unknown element", _with(PATIENT, unknownField=1), "Patient.unknownField", "unknown-element"),
    ("active 'yes'", _with(PATIENT, active="yes"), "Patient.active", "json-type"),
    ("family as array", _with(PATIENT, name=[{"family": ["Hansen"]}]), "Patient.name[0].family", "not-array"),
    ("given as string", _with(PATIENT, name=[{"given": "Kari"}]), "Patient.name[0].given", "array"),
    ("birthDate 13.03.2013", _with(PATIENT, birthDate="13.03.2013"), "Patient.birthDate", "format"),
    ("birthDate 2013-02-30", _with(PATIENT, birthDate="2013-02-30"), "Patient.birthDate", "calendar"),
    ("id bad_id!!", _with(PATIENT, id="bad_id!!"), "Patient.id", "format"),
    ("gender kvinne", _with(PATIENT, gender="kvinne"), "Patient.gender", "binding"),
    ("status done", _with(OBSERVATION, status="done"), "Observation.status", "binding"),
    ("telecom pager2", _with(PATIENT, telecom=[{"system": "pager2", "value": "1"}]),
     "Patient.telecom[0].system", "binding"),
    ("Observation.code missing", _with(OBSERVATION, code=None), "Observation.code", "cardinality-min"),
    ("valueQuantity + valueString", _with(OBSERVATION, valueString="seventy-two"), "Observation.value", "choice-type"),
    ("value 'seventy-two' as decimal", _with(OBSERVATION, valueQuantity={"value": "72"}),
     "Observation.value.ofType(Quantity).value", "json-type"),
    ("dateTime without timezone", _with(OBSERVATION, effectiveDateTime="2026-01-01T10:00:00"),
     "Observation.effective.ofType(dateTime)", "format"),
    ("contact [{}] (ele-1)", _with(PATIENT, contact=[{}]), "Patient.contact[0]", "ele-1"),
    ("contact without details (pat-1)", _with(PATIENT, contact=[{"gender": "male"}]), "Patient.contact[0]", "pat-1"),
    ("obs-6", _with(OBSERVATION, dataAbsentReason={"text": "unknown"}), "Observation", "obs-6"),
    ("given: []", _with(PATIENT, name=[{"family": "Hansen", "given": []}]), "Patient.name[0].given", "empty-array"),
    ("empty string", _with(PATIENT, name=[{"family": ""}]), "Patient.name[0].family", "empty-string"),
    ("null value", _with(PATIENT, gender=None) | {"gender": None}, "Patient.gender", "null"),
]


@pytest.mark.parametrize("label,resource,expression,rule", DEFECTS, ids=[d[0] for d in DEFECTS])
def test_defect_is_caught_where_it_is(label, resource, expression, rule):
    issues = Validator.default().validate(resource)
    found = [i for i in issues if i.rule == rule and i.expression == expression]
    assert found, f"{label}: expected {rule} at {expression}, got {[(i.rule, i.expression) for i in issues]}"
    issue = found[0]
    assert is_error(issue)
    assert issue.fix and "…" not in issue.fix and issue.message


@pytest.mark.parametrize("resource", [PATIENT, OBSERVATION], ids=["patient", "observation"])
def test_the_valid_samples_have_no_errors(resource):
    issues = Validator.default().validate(resource)
    assert [i for i in issues if is_error(i)] == []


def test_validation_does_not_change_the_resource():
    resource = _with(OBSERVATION, dataAbsentReason={"text": "x"}, contained=[{"resourceType": "Patient"}])
    before = copy.deepcopy(resource)
    Validator.default().validate(resource)
    assert resource == before


def test_an_operation_outcome_carries_location_rule_and_fix():
    outcome = operation_outcome(Validator.default().validate(_with(PATIENT, gender="kvinne")))
    issue = next(i for i in outcome["issue"] if i["expression"] == ["Patient.gender"])
    assert issue["severity"] == "error" and issue["code"] == "code-invalid"
    assert issue["details"]["coding"][0]["code"] == "binding"
    assert "female" in issue["diagnostics"]
