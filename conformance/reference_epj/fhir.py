"""FHIR resources the reference EPJ sends, built to the guide (conformance/ig/CONTRACT.md)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from functools import cache
from importlib.resources import files

import yaml

from conformance.reference_epj.config import Defect, EpjConfig
from synthetic_data.identifiers import control_digits

SK = "https://sandkasse.no/fhir"
PROFILE = f"{SK}/StructureDefinition/"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
NEWS2 = f"{SK}/CodeSystem/news2"
ACVPU = f"{SK}/CodeSystem/acvpu"
OID_FNR = "urn:oid:2.16.578.1.12.4.1.4.1"
OID_ORGNR = "urn:oid:2.16.578.1.12.4.1.4.101"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
OTHER_KOMMUNE = "3201"   # used only by the wrong-kommunenummer defect


def _kommune(config: EpjConfig) -> str:
    return OTHER_KOMMUNE if config.has(Defect.WRONG_KOMMUNENUMMER) else config.kommunenummer


def vedtak_identifier(config: EpjConfig, vedtak_id: str) -> dict:
    system = f"{SK}/sid/vedtak/{_kommune(config)}"
    if config.has(Defect.WRONG_IDENTIFIER_SYSTEM):
        system = "https://epj.example.no/identifiers/vedtak"
    return {"system": system, "value": vedtak_id}


def patient_reference(patient_id: str, fnr: str, config: EpjConfig) -> dict:
    reference = {"reference": f"Patient/{patient_id}"}
    if config.has(Defect.REAL_LOOKING_FNR):
        # The EPJ's own test data: the same person with a month in the range of real numbers.
        first_nine = fnr[:2] + f"{int(fnr[2:4]) % 20:02d}" + fnr[4:9]
        real = first_nine + (control_digits(first_nine) or "00")
        reference["identifier"] = {"system": OID_FNR, "value": real}
    return reference


def episode_of_care(params: dict, patient_ref: dict, config: EpjConfig, status: str = "active") -> dict:
    """A vedtak as sk-kommunal-tjeneste (K1–K9; K8, the free text, stays in the EPJ)."""
    kommune = _kommune(config)
    hours_unit = {"value": params["hours"], "unit": "timer per uke", "system": UCUM, "code": "h/wk"}
    if config.has(Defect.WRONG_HOURS_UNIT):
        hours_unit = {"value": params["hours"], "unit": "timer", "system": UCUM, "code": "h"}
    extensions = [{"url": f"{PROFILE}vedtakstimer", "valueQuantity": hours_unit}]
    if params.get("review_date") and not config.has(Defect.MISSING_REVIEW_DATE):
        extensions.append({"url": f"{PROFILE}revurderingsdato", "valueDate": params["review_date"]})
    if config.has(Defect.SENDS_FREE_TEXT) and params.get("free_text"):
        extensions.append({"url": f"{PROFILE}vedtakstekst", "valueString": params["free_text"]})
    period = {"start": params["start"]}
    if params.get("end"):
        period["end"] = params["end"]
    location = params["service_location"]
    return {
        "resourceType": "EpisodeOfCare",
        "meta": {"profile": [f"{PROFILE}sk-kommunal-tjeneste"]},
        "extension": extensions,
        "identifier": [vedtak_identifier(config, params["vedtak_id"])],
        "status": status,
        "type": [{"coding": [
            {"system": f"{SK}/CodeSystem/lokal-tjeneste-{kommune}", "code": params["local_code"],
             "display": params["local_text"]},
            {"system": f"{SK}/CodeSystem/kpr-tjenestetype", "code": params["service_type"]["code"],
             **({"display": params["service_type"]["display"]} if "display" in params["service_type"] else {})}],
            "text": params["local_text"]}],
        "patient": patient_ref,
        "managingOrganization": {"identifier": {"system": OID_ORGNR, "value": location["orgnr"]},
                                 **({"display": location["name"]} if "name" in location else {})},
        "period": period,
    }


def provenance(targets: list[str], config: EpjConfig, activity: str) -> dict:
    return {
        "resourceType": "Provenance",
        "meta": {"profile": [f"{PROFILE}sk-provenance"]},
        "target": [{"reference": t} for t in targets],
        "recorded": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                 "code": activity}]},
        "agent": [{"who": {"identifier": {"system": "https://sandkasse.no/fhir/sid/system",
                                          "value": config.source_system}},
                   "onBehalfOf": {"identifier": {"system": OID_ORGNR, "value": config.organisation}}}],
        "entity": [{"role": "source", "what": {"display": config.source_system}}],
    }


# NEWS2 --------------------------------------------------------------------------------------

@cache
def _chart() -> dict:
    return yaml.safe_load(files(__package__).joinpath("news2_chart.yaml").read_text(encoding="utf-8"))


def _points(table: list, value: float) -> int:
    for low, high, points in table:
        if low <= value <= high:
            return points
    raise ValueError(f"{value} is outside the NEWS2 chart")


def news2_subscores(m: dict) -> dict[str, int]:
    chart = _chart()
    spo2_table = chart["spo2_scale_1"] if m["spo2_scale"] == 1 else chart[f"spo2_scale_2_{m['air_or_oxygen']}"]
    return {"respiratory-rate-score": _points(chart["respiratory_rate"], m["respiratory_rate"]),
            "spo2-score": _points(spo2_table, m["spo2"]),
            "air-or-oxygen-score": chart["air_or_oxygen"][m["air_or_oxygen"]],
            "systolic-bp-score": _points(chart["systolic"], m["systolic"]),
            "pulse-score": _points(chart["pulse"], m["pulse"]),
            "consciousness-score": chart["consciousness"][m["consciousness"]],
            "temperature-score": _points(chart["temperature"], m["temperature"])}


def _quantity(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _concept(system: str, code: str) -> dict:
    return {"coding": [{"system": system, "code": code}]}


def _observation(profile: str, code: dict, patient_ref: dict, effective: str, category: str, **value) -> dict:
    return {"resourceType": "Observation", "meta": {"profile": [PROFILE + profile]}, "status": "final",
            "category": [_concept(CATEGORY, category)], "code": code, "subject": patient_ref,
            "effectiveDateTime": effective, **value}


def news2_observations(m: dict, patient_ref: dict, effective: str, config: EpjConfig) -> list[tuple[str, dict]]:
    """(fullUrl, Observation) for the seven measurements, then the score deriving from them."""
    temperature = _quantity(m["temperature"], "Cel")
    if config.has(Defect.WRONG_TEMPERATURE_UNIT):
        temperature = _quantity(round(m["temperature"] * 9 / 5 + 32, 1), "[degF]")
    vs = "vital-signs"
    measurements = [
        _observation("sk-news2-respiratory-rate", _concept(LOINC, "9279-1"), patient_ref, effective, vs,
                     valueQuantity=_quantity(m["respiratory_rate"], "/min")),
        _observation("sk-news2-oxygen-saturation", _concept(LOINC, "59408-5"), patient_ref, effective, vs,
                     valueQuantity=_quantity(m["spo2"], "%"),
                     component=[{"code": _concept(NEWS2, "spo2-scale"), "valueInteger": m["spo2_scale"]}]),
        _observation("sk-news2-supplemental-oxygen", _concept(NEWS2, "air-or-oxygen"), patient_ref, effective, vs,
                     valueCodeableConcept=_concept(NEWS2, m["air_or_oxygen"])),
        _observation("sk-news2-heart-rate", _concept(LOINC, "8867-4"), patient_ref, effective, vs,
                     valueQuantity=_quantity(m["pulse"], "/min"),
                     component=[{"code": _concept(NEWS2, "pulse-regularity"),
                                 "valueCodeableConcept": _concept(NEWS2, m["pulse_regularity"])}]),
        _observation("sk-news2-blood-pressure", _concept(LOINC, "85354-9"), patient_ref, effective, vs,
                     component=[{"code": _concept(LOINC, "8480-6"), "valueQuantity": _quantity(m["systolic"], "mm[Hg]")},
                                {"code": _concept(LOINC, "8462-4"), "valueQuantity": _quantity(m["diastolic"], "mm[Hg]")}]),
        _observation("sk-news2-consciousness", _concept(NEWS2, "consciousness"), patient_ref, effective, vs,
                     valueCodeableConcept=_concept(ACVPU, m["consciousness"])),
        _observation("sk-news2-body-temperature", _concept(LOINC, "8310-5"), patient_ref, effective, vs,
                     valueQuantity=temperature),
    ]
    subscores = news2_subscores(m)
    total = sum(subscores.values())
    if config.has(Defect.WRONG_NEWS2_SUM):
        total -= subscores["temperature-score"]
    urls = [f"urn:uuid:{uuid.uuid4()}" for _ in measurements]
    score = _observation("sk-news2-score", _concept(NEWS2, "total"), patient_ref, effective, "survey",
                         valueInteger=total,
                         component=[{"code": _concept(NEWS2, code), "valueInteger": points}
                                    for code, points in subscores.items()])
    if not config.has(Defect.MISSING_DERIVED_FROM):
        score["derivedFrom"] = [{"reference": url} for url in urls]
    return list(zip(urls, measurements)) + [(f"urn:uuid:{uuid.uuid4()}", score)]
