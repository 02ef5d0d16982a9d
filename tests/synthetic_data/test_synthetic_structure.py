"""Every generated resource is well-formed FHIR R4 JSON with an id, a profile, and references that
resolve within its patient's Bundle or to the shared organisations and practitioners."""
from __future__ import annotations

import re

from synthetic_data import identifiers, transaction_bundle
from synthetic_data.fhir import SD

_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


_DATE_KEYS = ("Date", "birthDate", "start", "end", "valueDate")
_DATETIME_KEYS = ("DateTime", "recorded", "date")


def _check_resource(resource: dict) -> list[str]:
    """Structural checks on one resource; returns the references it makes."""
    assert isinstance(resource.get("resourceType"), str)
    assert _ID.match(resource["id"])
    profiles = resource["meta"]["profile"]
    assert len(profiles) == 1 and profiles[0].startswith(f"{SD}/sk-")
    references = []
    stack: list[tuple[object, str]] = [(resource, "")]
    while stack:  # iterative walk: this runs over every value of 30,000 resources
        value, key = stack.pop()
        # FHIR JSON has no nulls and no empty objects, arrays or strings
        assert value is not None and value != [] and value != {} and value != "", f"{resource['id']}: {key}"
        if isinstance(value, dict):
            stack.extend((child, k) for k, child in value.items())
        elif isinstance(value, list):
            stack.extend((child, key) for child in value)
        elif isinstance(value, str):
            if key == "reference":
                references.append(value)
            elif key.endswith(_DATE_KEYS):
                assert _DATE.match(value) or _DATETIME.match(value), f"{key}: {value}"
            elif key.endswith(_DATETIME_KEYS):
                assert _DATETIME.match(value) or _DATE.match(value), f"{key}: {value}"
    return references


def test_shared_resources_are_well_formed(shared: list[dict]) -> None:
    types = {r["resourceType"] for r in shared}
    assert types == {"Organization", "Practitioner", "PractitionerRole"}
    ids = {f"{r['resourceType']}/{r['id']}" for r in shared}
    assert len(ids) == len(shared)
    for r in shared:
        assert all(ref in ids for ref in _check_resource(r))
        if r["resourceType"] == "Organization":
            orgnr = next(i["value"] for i in r["identifier"] if i["system"] == identifiers.OID_ORGNR)
            assert identifiers.is_synthetic_orgnr(orgnr)
        if r["resourceType"] == "Practitioner":
            assert r["identifier"][0]["system"] == identifiers.OID_HPR


def test_every_patient_resource_is_well_formed_and_references_resolve(default_cohort, shared) -> None:
    shared_ids = {f"{r['resourceType']}/{r['id']}" for r in shared}
    seen_ids: set[str] = set()
    for patient in default_cohort:
        local = {f"{r['resourceType']}/{r['id']}" for r in patient.resources}
        assert len(local) == len(patient.resources)
        assert not local & seen_ids, "resource ids are unique across the cohort"
        seen_ids |= local
        assert patient.resources[0]["resourceType"] == "Patient"
        for resource in patient.resources:
            contained = {f"#{c['id']}" for c in resource.get("contained", [])}
            for ref in _check_resource(resource):
                assert ref in local or ref in shared_ids or ref in contained, \
                    f"{resource['resourceType']}/{resource['id']} → {ref}"


def test_patients_carry_only_synthetic_identifiers(default_cohort) -> None:
    kinds = set()
    for patient in default_cohort:
        for identifier in patient.patient["identifier"]:
            c = identifiers.classify(identifier["value"])
            assert c.synthetic and not c.real_looking, identifier
            assert identifier["system"] == c.system
            kinds.add(c.kind)
    assert kinds == {"fnr", "dnr", "fhn"}


def test_transaction_bundle_puts_every_resource_by_id(default_cohort) -> None:
    patient = default_cohort[0]
    bundle = transaction_bundle(patient)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
    assert [e["resource"] for e in bundle["entry"]] == patient.resources
    for entry in bundle["entry"]:
        r = entry["resource"]
        assert entry["fullUrl"] == f"urn:uuid:{r['id']}"
        assert entry["request"] == {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}


def test_at_least_30_resources_per_patient_on_average(default_cohort) -> None:
    assert sum(len(p.resources) for p in default_cohort) / len(default_cohort) >= 30
