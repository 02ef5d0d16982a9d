"""What the suite seeds into the sandbox for the consumer role: vedtak and NEWS2 sets built to the
guide (conformance/ig/CONTRACT.md) from the consumer scenarios, with ids unique to the run."""
from __future__ import annotations

import uuid

SK = "https://sandkasse.no/fhir"
EXT = f"{SK}/StructureDefinition/"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
NEWS2 = f"{SK}/CodeSystem/news2"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_NS = uuid.UUID("3b7e0f5c-3f0e-4d8e-9a55-6a2c1d0b9e21")


def seeded_id(run_token: str, *parts: object) -> str:
    return str(uuid.uuid5(_NS, ":".join([run_token, *map(str, parts)])))


def vedtak(rid: str, vedtak_id: str, patient_id: str, kommunenummer: str, service: dict, hours: float,
           template: dict) -> dict:
    resource = {
        "resourceType": "EpisodeOfCare", "id": rid,
        "meta": {"profile": [f"{EXT}sk-kommunal-tjeneste"]},
        "extension": [{"url": f"{EXT}vedtakstimer",
                       "valueQuantity": {"value": hours, "unit": "timer per uke", "system": UCUM, "code": "h/wk"}},
                      {"url": f"{EXT}revurderingsdato", "valueDate": template["review_date"]}],
        "identifier": [{"system": f"{SK}/sid/vedtak/{kommunenummer}", "value": vedtak_id}],
        "status": "active",
        "type": [{"coding": [{"system": f"{SK}/CodeSystem/lokal-tjeneste-{kommunenummer}",
                              "code": service["local_code"], "display": service["local_text"]},
                             {"system": f"{SK}/CodeSystem/kpr-tjenestetype", "code": service["code"],
                              "display": service["display"]}],
                  "text": service["local_text"]}],
        "patient": {"reference": f"Patient/{patient_id}"},
        "managingOrganization": {"identifier": {"system": "urn:oid:2.16.578.1.12.4.1.4.101",
                                                "value": template["service_location"]["orgnr"]}},
        "period": {"start": template["start"]},
    }
    return resource


def sperring(rid: str, patient_id: str, client_id: str, references: list[str], spec: dict) -> dict:
    """A block (sk-sperring): the patient denies this HelseID client access to these resources."""
    return {
        "resourceType": "Consent", "id": rid, "meta": {"profile": [f"{EXT}sk-sperring"]},
        "status": "active",
        "scope": {"coding": [spec["scope"]]},
        "category": [{"coding": [spec["category"]]}],
        "patient": {"reference": f"Patient/{patient_id}"},
        "dateTime": "2026-01-15T10:00:00+01:00",
        # The patient's opt-out is the rule the block rests on (ppc-1: a Consent names its policy).
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT",
                                   "display": "opt-out"}]},
        "provision": {
            "type": "deny",
            "actor": [{"role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                            "code": "IRCP"}]},
                       "reference": {"identifier": {"system": spec["client_system"], "value": client_id}}}],
            "data": [{"meaning": "instance", "reference": {"reference": ref}} for ref in references],
        },
    }


def _concept(system: str, code: str) -> dict:
    return {"coding": [{"system": system, "code": code}]}


def _q(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def news2_set(run_token: str, patient_id: str, effective: str, m: dict, total: int) -> list[dict]:
    """Seven measurements and the score deriving from them (subscores omitted: the consumer shows the total)."""
    def obs(key: str, code: dict, category: str = "vital-signs", **value) -> dict:
        return {"resourceType": "Observation", "id": seeded_id(run_token, "news2", key), "status": "final",
                "category": [_concept(CATEGORY, category)], "code": code,
                "subject": {"reference": f"Patient/{patient_id}"}, "effectiveDateTime": effective, **value}
    measurements = [
        obs("rr", _concept(LOINC, "9279-1"), valueQuantity=_q(m["respiratory_rate"], "/min")),
        obs("spo2", _concept(LOINC, "59408-5"), valueQuantity=_q(m["spo2"], "%"),
            component=[{"code": _concept(NEWS2, "spo2-scale"), "valueInteger": m["spo2_scale"]}]),
        obs("o2", _concept(NEWS2, "air-or-oxygen"), valueCodeableConcept=_concept(NEWS2, m["air_or_oxygen"])),
        obs("pulse", _concept(LOINC, "8867-4"), valueQuantity=_q(m["pulse"], "/min"),
            component=[{"code": _concept(NEWS2, "pulse-regularity"),
                        "valueCodeableConcept": _concept(NEWS2, m["pulse_regularity"])}]),
        obs("bp", _concept(LOINC, "85354-9"),
            component=[{"code": _concept(LOINC, "8480-6"), "valueQuantity": _q(m["systolic"], "mm[Hg]")},
                       {"code": _concept(LOINC, "8462-4"), "valueQuantity": _q(m["diastolic"], "mm[Hg]")}]),
        obs("acvpu", _concept(NEWS2, "consciousness"),
            valueCodeableConcept=_concept(f"{SK}/CodeSystem/acvpu", m["consciousness"])),
        obs("temp", _concept(LOINC, "8310-5"), valueQuantity=_q(m["temperature"], "Cel")),
    ]
    score = obs("score", _concept(NEWS2, "total"), "survey", valueInteger=total,
                derivedFrom=[{"reference": f"Observation/{o['id']}"} for o in measurements])
    return measurements + [score]


def transactions(resources: list[dict]) -> list[dict]:
    """One transaction Bundle per patient: the platform takes one patient's data per write."""
    by_patient: dict[str, list[dict]] = {}
    for resource in resources:
        patient = (resource.get("patient") or resource.get("subject") or {}).get("reference", "")
        by_patient.setdefault(patient, []).append(resource)
    return [{"resourceType": "Bundle", "type": "transaction",
             "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r,
                        "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in group]}
            for group in by_patient.values()]
