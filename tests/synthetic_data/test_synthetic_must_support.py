"""Across a default cohort of 1,000 patients (plus the shared resources), every element the guide's
profiles mark must-support occurs at least once.

The must-support list is read from the built IG package (conformance/ig/package/) when it is there;
otherwise from the list below, derived from conformance/ig/CONTRACT.md.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "conformance" / "ig" / "package"
# Elements produced by the platform itself, not by a source system's cohort.
NOT_GENERATED = {"sk-auditevent"}
# Must-support elements the profile itself makes unreachable: the blood pressure panel requires a
# systolic component with a value (component[systolic] 1..1, value[x] 1..1), so it is never absent.
UNREACHABLE = {("sk-news2-blood-pressure", "Observation.dataAbsentReason")}

CONTRACT_MUST_SUPPORT = {
    "sk-patient": ["Patient.identifier", "Patient.name", "Patient.gender", "Patient.birthDate",
                   "Patient.address.district.extension"],
    "sk-practitioner": ["Practitioner.identifier"],
    "sk-practitionerrole": ["PractitionerRole.practitioner", "PractitionerRole.organization", "PractitionerRole.code"],
    "sk-organization": ["Organization.identifier", "Organization.type", "Organization.partOf"],
    "sk-kommunal-tjeneste": ["EpisodeOfCare.type.coding", "EpisodeOfCare.type.text", "EpisodeOfCare.status",
                             "EpisodeOfCare.extension:vedtakstimer", "EpisodeOfCare.period.start",
                             "EpisodeOfCare.period.end", "EpisodeOfCare.extension:revurderingsdato",
                             "EpisodeOfCare.extension:vedtakstekst", "EpisodeOfCare.identifier",
                             "EpisodeOfCare.managingOrganization", "EpisodeOfCare.patient"],
    "sk-news2-oxygen-saturation": ["Observation.component.valueInteger"],
    "sk-news2-heart-rate": ["Observation.component.valueCodeableConcept"],
    "sk-news2-blood-pressure": ["Observation.component.valueQuantity"],
    "sk-news2-score": ["Observation.valueInteger", "Observation.component.code", "Observation.derivedFrom"],
    "sk-condition": ["Condition.code"],
    "sk-allergyintolerance": ["AllergyIntolerance.code", "AllergyIntolerance.criticality"],
    "sk-medicationstatement": ["MedicationStatement.medicationCodeableConcept", "MedicationStatement.reasonReference"],
    "sk-careplan": ["CarePlan.category"],
    "sk-functional-assessment": ["Observation.code", "Observation.valueInteger"],
    "sk-documentreference": ["DocumentReference.meta.security"],
    "sk-sperring": ["Consent.provision.actor", "Consent.provision.data", "Consent.provision.class"],
    "sk-advance-directive": ["Consent.scope", "Consent.provision"],
    "sk-provenance": ["Provenance.target", "Provenance.recorded", "Provenance.agent.who",
                      "Provenance.agent.onBehalfOf", "Provenance.entity"],
}


def _must_support_from_package() -> dict[str, list[tuple[str, str | None]]]:
    """profile id → [(element id, extension url for extension slices)] from the snapshots."""
    out: dict[str, list[tuple[str, str | None]]] = {}
    for path in sorted(PACKAGE.glob("StructureDefinition-*.json")):
        sd = json.loads(path.read_text(encoding="utf-8"))
        if sd.get("kind") != "resource" or sd["id"] in NOT_GENERATED:
            continue
        elements = []
        for e in sd.get("snapshot", sd.get("differential", {})).get("element", []):
            if e.get("mustSupport") and e.get("max") != "0":  # a prohibited element cannot occur
                url = next((p for t in e.get("type", []) for p in t.get("profile", [])), None)
                elements.append((e["id"], url if e["id"].rsplit(".", 1)[-1].startswith("extension:") else None))
        out[sd["id"]] = elements
    return out


def _values(node, parts: list[str], ext_url: str | None) -> list:
    """Every value at the element path `parts` below `node`, following lists, choice types and slices."""
    if not parts:
        return [node]
    name, _, slice_name = parts[0].partition(":")
    found = []
    for item in node if isinstance(node, list) else [node]:
        if not isinstance(item, dict):
            continue
        if name.endswith("[x]"):
            children = [v for k, v in item.items() if k.startswith(name[:-3]) and not k.startswith("_")]
        elif name in item:
            children = [item[name]]
        else:
            children = []
        # a primitive's extensions live in "_name"
        if len(parts) > 1 and parts[1].startswith("extension") and f"_{name}" in item:
            children.append(item[f"_{name}"])
        for child in children:
            for value in child if isinstance(child, list) else [child]:
                if slice_name and name == "extension" and ext_url and len(parts) == 1:
                    if not (isinstance(value, dict) and value.get("url") == ext_url):
                        continue
                found.extend(_values(value, parts[1:], ext_url))
    return found


def _elements() -> tuple[str, dict[str, list[tuple[str, str | None]]]]:
    if PACKAGE.is_dir() and any(PACKAGE.glob("StructureDefinition-sk-*.json")):
        return "package", _must_support_from_package()
    return "contract", {p: [(e, None) for e in es] for p, es in CONTRACT_MUST_SUPPORT.items()}


def _by_profile(resources: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in resources:
        out.setdefault(r["meta"]["profile"][0].rsplit("/", 1)[1], []).append(r)
    return out


def test_every_must_support_element_occurs(default_cohort, shared) -> None:
    source, must_support = _elements()
    by_profile = _by_profile(shared + [r for p in default_cohort for r in p.resources])
    missing = []
    for profile, elements in must_support.items():
        resources = by_profile.get(profile, [])
        if not resources:
            missing.append(f"{profile}: no resource at all")
            continue
        for element_id, ext_url in elements:
            if (profile, element_id) in UNREACHABLE:
                continue
            parts = element_id.split(".")[1:]
            if not any(_values(r, parts, ext_url) for r in resources):
                missing.append(f"{profile}: {element_id}")
    assert not missing, f"must-support elements never generated ({source}): {missing}"


@pytest.mark.parametrize("code", ["planned", "active", "finished", "cancelled"])
def test_every_vedtak_status_occurs(default_cohort, code: str) -> None:
    statuses = {r["status"] for p in default_cohort for r in p.resources if r["resourceType"] == "EpisodeOfCare"}
    assert code in statuses


def test_both_condition_code_systems_and_all_acvpu_levels_occur(default_cohort) -> None:
    resources = [r for p in default_cohort for r in p.resources]
    systems = {c["system"] for r in resources if r["resourceType"] == "Condition" for c in r["code"]["coding"]}
    assert systems == {"http://hl7.org/fhir/sid/icpc-2", "http://hl7.org/fhir/sid/icd-10-no"}
    levels = {r["valueCodeableConcept"]["coding"][0]["code"] for r in resources
              if r["meta"]["profile"][0].endswith("sk-news2-consciousness") and "valueCodeableConcept" in r}
    assert levels == set("ACVPU")
