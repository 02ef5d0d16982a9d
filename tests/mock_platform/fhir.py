"""Small hand-written FHIR resources for the platform tests (base R4, synthetic identifiers)."""
from __future__ import annotations

import random
from datetime import date

from synthetic_data.identifiers import OID_FNR, OID_ORGNR, synthetic_fodselsnummer

LOINC = "http://loinc.org"
VITAL = {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}
SURVEY = {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}
VEDTAK = "https://sandkasse.no/fhir/sid/vedtak/0301"


def fnr(index: int) -> str:
    return synthetic_fodselsnummer(date(1940 + index % 50, 1 + index % 12, 1 + index % 28), index % 2 == 0,
                                   random.Random(index))


def patient(pid: str, index: int = 1) -> dict:
    return {"resourceType": "Patient", "id": pid, "identifier": [{"system": OID_FNR, "value": fnr(index)}],
            "name": [{"family": f"Testesen{index}", "given": ["Kari"]}], "gender": "female",
            "birthDate": "1950-01-01"}


def observation(oid: str, pid: str, code: str = "8867-4", when: str = "2025-03-01T10:00:00Z", value: float = 80,
                category: dict = VITAL, status: str = "final") -> dict:
    return {"resourceType": "Observation", "id": oid, "status": status, "category": [{"coding": [category]}],
            "code": {"coding": [{"system": LOINC, "code": code}]}, "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}


def episode(eid: str, pid: str, start: str = "2024-01-01", end: str | None = None, status: str = "active",
            vedtak: str = "V-1", org: str | None = None, text: str | None = None) -> dict:
    resource = {"resourceType": "EpisodeOfCare", "id": eid, "status": status,
                "identifier": [{"system": VEDTAK, "value": vedtak}],
                "type": [{"coding": [{"system": "https://sandkasse.no/fhir/CodeSystem/kpr-tjenestetype",
                                      "code": "helsetjenester-i-hjemmet"}], "text": "Hjemmesykepleie"}],
                "patient": {"reference": f"Patient/{pid}"}, "period": {"start": start}}
    if end:
        resource["period"]["end"] = end
    if org:
        resource["managingOrganization"] = {"reference": f"Organization/{org}"}
    if text:
        resource["extension"] = [{"url": "https://sandkasse.no/fhir/StructureDefinition/vedtakstekst",
                                  "valueString": text}]
    return resource


def orgnr(first_eight: str) -> str:
    """A 9-digit organisasjonsnummer with its mod-11 check digit."""
    check = 11 - sum(int(d) * w for d, w in zip(first_eight, (3, 2, 7, 6, 5, 4, 3, 2))) % 11
    assert check != 10, "pick other digits: no valid check digit"
    return first_eight + str(0 if check == 11 else check)


ORG_A = orgnr("97460000")      # the organisation of the default test client (epj-a)
ORG_B = orgnr("91234568")


def organization(oid: str, orgnr: str = ORG_A, name: str = "Hjemmesykepleien sone 1") -> dict:
    return {"resourceType": "Organization", "id": oid, "identifier": [{"system": OID_ORGNR, "value": orgnr}],
            "name": name}


def sperring(cid: str, pid: str, actor: dict, classes: list[str] | None = None, data: list[str] | None = None) -> dict:
    provision: dict = {"type": "deny", "actor": [{"role": {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]},
        "reference": actor}]}
    if classes:
        provision["class"] = [{"system": "http://hl7.org/fhir/resource-types", "code": c} for c in classes]
    if data:
        provision["data"] = [{"meaning": "instance", "reference": {"reference": r}} for r in data]
    return {"resourceType": "Consent", "id": cid, "status": "active",
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                                  "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
            "patient": {"reference": f"Patient/{pid}"}, "dateTime": "2025-01-01",
            "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}]},
            "provision": provision}


def bundle(*resources: dict, method: str = "PUT") -> dict:
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"urn:uuid:{r['id']}", "resource": r,
         "request": {"method": method, "url": f"{r['resourceType']}/{r['id']}" if method == "PUT" else r["resourceType"]}}
        for r in resources]}
