"""Seeded generation of synthetic Norwegian patients, clinically coherent per patient.

Every patient draws from its own random stream, derived from (seed, index), so patient N is the
same whether a cohort has 10 or 10 million patients, and chunking never changes the output. A
patient is first *planned* (sex, age, conditions, services, directives), then *built* into FHIR
resources whose content follows the plan: a KOLS patient gets a KOLS condition, an inhaler, a
respiration care plan and NEWS2 sets on SpO2 scale 2 with a raised baseline.

Resources are plain dicts built directly (no deepcopy, no templates), serialised once by the writer.
"""
from __future__ import annotations

import base64
import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from synthetic_data import clinical, identifiers, news2, registries
from synthetic_data.fhir import (ACT_CODE, ALLERGY_CLINICAL, ALLERGY_VERIFICATION, ATC, COND_CATEGORY, COND_CLINICAL,
                                 COND_VERIFICATION, CONFIDENTIALITY, CONSENT_CATEGORY, CONSENT_SCOPE, CS_ACVPU,
                                 CS_IPLOS, CS_KPR, CS_KRITISK, CS_NEWS2, CS_PROBLEMOMRADE, CS_SPERRETYPE, EXT_MUNICIPALITY,
                                 EXT_REVURDERINGSDATO, EXT_VEDTAKSTEKST, EXT_VEDTAKSTIMER, FLAG_CATEGORY, ICD10,
                                 ICPC2, LOINC, OBS_CATEGORY, PARTICIPATION, PROVENANCE_AGENT, RESOURCE_TYPES,
                                 ROLE_CODE, SID_KILDESYSTEM, SK, SNOMED, UCUM, category, coding, concept, meta, ref)
from synthetic_data.shared import Municipality, municipality

GENERATOR_VERSION = "0.2.0"
REFERENCE_DATE = date(2026, 1, 1)  # fixed, so output never floats with the clock
_ID_NAMESPACE = uuid.UUID("6f1c2a8e-51d4-4a57-9a0c-5a1d0c0f2e11")

_VITAL_SIGNS = category(OBS_CATEGORY, "vital-signs", "Vital Signs")
_SURVEY = category(OBS_CATEGORY, "survey", "Survey")
_SOCIAL = category(OBS_CATEGORY, "social-history", "Social History")
_PROBLEM_LIST = category(COND_CATEGORY, "problem-list-item", "Problem List Item")
_ACVPU = {"A": "Alert", "C": "New confusion", "V": "Voice", "P": "Pain", "U": "Unresponsive"}
_RELATIONS = {"DAU": "datter", "SON": "sønn", "WIFE": "ektefelle", "HUSB": "ektefelle", "MTH": "mor",
              "FTH": "far", "SIS": "søster", "BRO": "bror"}
_TOBACCO = (("266919005", "Never smoked tobacco"), ("8517006", "Ex-smoker"), ("77176002", "Smoker"))
_HOURS_PER_WEEK = {"system": UCUM, "code": "h/wk", "unit": "timer per uke"}
_LANGUAGES = tuple(concept("urn:ietf:bcp:47", code, display) for code, display in (
    ("nb", "Norsk bokmål"), ("nn", "Norsk nynorsk"), ("se", "Nordsamisk"), ("pl", "Polsk"), ("so", "Somali"),
    ("ar", "Arabisk"), ("en", "Engelsk")))
_LANGUAGE_WEIGHTS = (80, 9, 1, 3, 2, 2, 3)
_DATA_ABSENT = concept("http://terminology.hl7.org/CodeSystem/data-absent-reason", "not-performed", "Not Performed",
                       "Ikke målt")
_FLOW_RATE = concept(LOINC, "3151-8", "Inhaled oxygen flow rate", "Oksygentilførsel")
_NOTE_CATEGORY = {"hjemmebesok": "Sykepleienotat", "sykehjem": "Sykepleienotat", "legevakt": "Legevaktsnotat",
                  "fastlege": "Journalnotat lege"}
_RESTRICTED = coding(CONFIDENTIALITY, "R", "restricted")
_NORMAL = coding(CONFIDENTIALITY, "N", "normal")
_DATA_OPERATION_CREATE = concept("http://terminology.hl7.org/CodeSystem/v3-DataOperation", "CREATE", "create")
_SEVERITY = {"high": "severe", "low": "moderate"}

# Constant parts of NEWS2 Observations, built once. Generated resources share these dicts: the
# writer only reads them, and nothing may mutate a generated resource's nested codings.
_MEASUREMENTS = (
    ("sk-news2-respiratory-rate", concept(LOINC, "9279-1", "Respiratory rate", "Respirasjonsfrekvens")),
    ("sk-news2-oxygen-saturation",
     concept(LOINC, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "SpO2")),
    ("sk-news2-supplemental-oxygen", concept(CS_NEWS2, "air-or-oxygen", "Air or oxygen", "Tilførsel av oksygen")),
    ("sk-news2-heart-rate", concept(LOINC, "8867-4", "Heart rate", "Puls")),
    ("sk-news2-blood-pressure",
     concept(LOINC, "85354-9", "Blood pressure panel with all children optional", "Blodtrykk")),
    ("sk-news2-consciousness", concept(CS_NEWS2, "consciousness", "Level of consciousness", "Bevissthetsnivå")),
    ("sk-news2-body-temperature", concept(LOINC, "8310-5", "Body temperature", "Temperatur")),
)
_SPO2_SCALE = {n: {"code": concept(CS_NEWS2, "spo2-scale", "SpO2 scale"), "valueInteger": n} for n in (1, 2)}
_AIR, _OXYGEN = concept(CS_NEWS2, "air", "Air"), concept(CS_NEWS2, "oxygen", "Oxygen")
_REGULAR = {"code": concept(CS_NEWS2, "pulse-regularity", "Pulse regularity"),
            "valueCodeableConcept": concept(CS_NEWS2, "regular", "Regular")}
_IRREGULAR = {"code": _REGULAR["code"], "valueCodeableConcept": concept(CS_NEWS2, "irregular", "Irregular")}
_SYSTOLIC = concept(LOINC, "8480-6", "Systolic blood pressure")
_DIASTOLIC = concept(LOINC, "8462-4", "Diastolic blood pressure")
_ACVPU_CONCEPTS = {k: concept(CS_ACVPU, k, v) for k, v in _ACVPU.items()}
_NEWS2_TOTAL = concept(CS_NEWS2, "total", "NEWS2 total score", "NEWS2")
_COMPONENT_CODES = {name: concept(CS_NEWS2, name) for name in news2.COMPONENTS}


@cache
def _iplos_code(code: str, display: str) -> dict:
    return {"coding": [coding(CS_IPLOS, code, display)], "text": display}  # shared, read-only


def _quantity(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def patient_rng(seed: int, index: int | str, stream: str = "patient") -> random.Random:
    digest = hashlib.sha256(f"{seed}:{index}:{stream}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def resource_id(seed: int, index: int | str, kind: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"{seed}:{index}:{kind}"))


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def _format_uuid5(hexdigest: str) -> str:
    """uuid.uuid5's string from a SHA-1 hex digest, without building UUID objects (ids are the hot path):
    version nibble 5, variant bits 10."""
    x = hexdigest
    return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}"


@dataclass(frozen=True)
class Population:
    """How random patients are drawn: age distribution and condition prevalence overrides."""
    age_bands: tuple[tuple[int, int, float], ...]
    prevalence: tuple[tuple[str, float], ...] = ()
    historic_addresses: bool = False  # old addresses with the kommunenummer valid before 2024

    @classmethod
    def parse(cls, age_distribution: str = "kommunal", prevalence: tuple[tuple[str, float], ...] = (),
              historic_addresses: bool = False) -> "Population":
        """age_distribution: a named one from aldersfordeling.csv or "FRA-TIL:VEKT,..." (e.g. 0-17:1,67-99:3)."""
        named = clinical.aldersfordelinger()
        if age_distribution in named:
            bands = named[age_distribution]
        else:
            try:
                bands = tuple(_parse_band(part) for part in age_distribution.split(","))
            except ValueError:
                raise ValueError(f"age distribution {age_distribution!r} is neither one of {sorted(named)} "
                                 "nor of the form FRA-TIL:VEKT,... (e.g. 0-17:1,67-99:3)") from None
        if not bands or sum(w for _, _, w in bands) <= 0:
            raise ValueError("the age distribution needs at least one band with a positive weight")
        known = clinical.tilstander()
        for key, rate in prevalence:
            if key not in known:
                raise ValueError(f"unknown condition {key!r}; known: {', '.join(sorted(known))}")
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"prevalence of {key} must be between 0 and 1, not {rate}")
        return cls(tuple(bands), tuple(prevalence), historic_addresses)


def _parse_band(part: str) -> tuple[int, int, float]:
    ages, weight = part.split(":")
    low, high = ages.split("-")
    lo, hi, w = int(low), int(high), float(weight)
    if not (0 <= lo <= hi <= 110) or w < 0:
        raise ValueError(part)
    return lo, hi, w


DEFAULT_POPULATION = Population.parse()


@dataclass
class Plan:
    """What a patient is, before any resource is built."""
    female: bool
    age: int
    birth: date
    conditions: list[str]
    services: list[str]
    allergies: list[dict] = field(default_factory=list)
    relatives: list[dict] = field(default_factory=list)
    hlr_minus: bool = False
    sperring: bool = False
    news2_sets: int = 0
    acute: bool = False
    other_kommune: bool = False
    historic_address: bool = False
    id_kind: str = "fnr"
    month_offset: int = identifiers.TENOR_MONTH_OFFSET
    given: str | None = None
    family: str | None = None
    persona: str | None = None


@dataclass
class SyntheticPatient:
    index: int | str
    fodselsnummer: str
    resources: list[dict] = field(default_factory=list)
    persona: str | None = None

    @property
    def patient(self) -> dict:
        return self.resources[0]


# Planning ------------------------------------------------------------------------------------


def _draw_age(rng: random.Random, population: Population) -> int:
    weights = [w for _, _, w in population.age_bands]
    lo, hi, _ = rng.choices(population.age_bands, weights=weights)[0]
    return rng.randint(lo, hi)


def _birth(rng: random.Random, age: int) -> date:
    return REFERENCE_DATE - timedelta(days=age * 365 + rng.randint(1, 364))


def plan_random(rng: random.Random, population: Population) -> Plan:
    female = rng.random() < 0.55
    age = _draw_age(rng, population)
    band = clinical.age_band(age)
    overrides = dict(population.prevalence)
    conditions = [key for key, t in clinical.tilstander().items()
                  if rng.random() < overrides.get(key, t.forekomst[band])]
    if female and 20 <= age <= 42 and rng.random() < 0.04:
        conditions.append("svangerskap")
    services = _plan_services(rng, age, conditions)
    plan = Plan(female, age, _birth(rng, age), conditions, services)
    if rng.random() < 0.1:
        pool = clinical.allergier()
        plan.allergies = [rng.choices(pool, weights=[float(a["andel"]) for a in pool])[0]]
    frail = "langtidsopphold" in services or "lungekreft" in conditions
    plan.hlr_minus = rng.random() < (0.6 if frail else 0.15 if band == "eldst" else 0.04 if band == "eldre" else 0.0)
    plan.sperring = rng.random() < 0.03
    plan.other_kommune = rng.random() < 0.02
    plan.historic_address = rng.random() < 0.15 and population.historic_addresses
    id_draw = rng.random()
    plan.id_kind = "fhn" if id_draw < 0.005 else "dnr" if id_draw < 0.04 else "fnr"
    plan.month_offset = identifiers.NHN_MONTH_OFFSET if rng.random() < 0.1 else identifiers.TENOR_MONTH_OFFSET
    plan.news2_sets = _plan_news2_sets(rng, age, services)
    plan.acute = plan.news2_sets > 0 and rng.random() < 0.15
    return plan


def _plan_services(rng: random.Random, age: int, conditions: list[str]) -> list[str]:
    if age < 6:
        return ["helsestasjon"]
    if age < 18:
        return []
    tilstander = clinical.tilstander()
    frailty = (age >= 80) + (age >= 90) + sum(tilstander[c].skropelighet for c in conditions) + len(conditions) // 3
    if frailty == 0 and rng.random() < 0.85:
        return []
    if frailty >= 4 and rng.random() < 0.5:
        services = ["langtidsopphold"]
    else:
        services = []
        for c in conditions:
            for s in tilstander[c].tjenester:
                if s not in services and rng.random() < 0.35 + 0.12 * frailty:
                    services.append(s)
        if frailty >= 2 and "hjemmesykepleie" not in services:
            services.append("hjemmesykepleie")
        if "hjemmesykepleie" in services:
            for extra, p in (("trygghetsalarm", 0.5), ("praktisk-bistand", 0.4), ("matombringing", 0.15)):
                if extra not in services and rng.random() < p:
                    services.append(extra)
    if ({"kols", "hjertesvikt"} & set(conditions)) and rng.random() < 0.12:
        services.append("kad")
    if age >= 67 and frailty >= 1 and rng.random() < 0.06:
        services.append("korttidsopphold")
    if frailty >= 2 and rng.random() < 0.05:
        services.append("avlastning")
    if not services and rng.random() < 0.5:
        services.append("trygghetsalarm")
    return services


def _plan_news2_sets(rng: random.Random, age: int, services: list[str]) -> int:
    if age < 18:
        return 0
    if "kad" in services:
        return rng.randint(3, 6)  # two a day at KAD
    if "langtidsopphold" in services or "hjemmesykepleie" in services:
        return rng.randint(2, 4)  # at admission / first visit, and on every change
    return 1 if rng.random() < (0.5 if age >= 67 else 0.15) else 0  # "minst årlig"


def plan_persona(key: str, rng: random.Random) -> Plan:
    p = clinical.personas()[key]
    female = p["kjonn"] == "female"
    age = int(p["alder"])
    allergies = [a for a in clinical.allergier() if a["kode"] in p.get("allergier", [])]
    return Plan(female, age, _birth(rng, age), list(p["tilstander"]), list(p["tjenester"]), allergies=allergies,
                relatives=list(p.get("parorende", [])), hlr_minus=bool(p.get("hlr_minus")),
                sperring=bool(p.get("sperring")), news2_sets=int(p.get("news2_serier", 1)),
                acute=bool(p.get("akutt")), other_kommune=p.get("bosted") == "annen-kommune",
                given=p["fornavn"], family=p["etternavn"], persona=key)


# Building ------------------------------------------------------------------------------------


def _person_email(given: str, family: str) -> dict:
    # e-mail in the reserved .invalid domain: a synthetic person can never be contacted for real
    return {"system": "email", "value": f"{given}.{family}@eksempel.invalid".lower().replace(" ", ""), "use": "home"}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _timestamp(day: date, minutes: int) -> str:
    offset = "+02:00" if 4 <= day.month <= 10 else "+01:00"  # Norwegian summer / winter time, roughly
    return f"{day.isoformat()}T{minutes // 60:02d}:{minutes % 60:02d}:00{offset}"


class _Builder:
    """Builds one patient's resources; holds the ids and references they share."""

    def __init__(self, seed: int, key: int | str, plan: Plan, kommune: Municipality, rng: random.Random) -> None:
        self.seed, self.key, self.plan, self.kommune, self.rng = seed, key, plan, kommune, rng
        self.resources: list[dict] = []
        self.counter = 0
        self._id_prefix = hashlib.sha1(_ID_NAMESPACE.bytes + f"{seed}:{key}:".encode())
        self.patient_id = resource_id(seed, key, "Patient")
        self.subject = ref("Patient", self.patient_id)
        self.conditions: dict[str, str] = {}  # condition key → Condition id
        self.hospital_diagnosis: str | None = None
        self.gp = kommune.staff("legekontor", rng)
        self.home = kommune.unit("sykehjem" if "langtidsopphold" in plan.services else "hjemmesykepleie", rng)

    def new_id(self, kind: str) -> str:
        self.counter += 1
        h = self._id_prefix.copy()  # the same id as resource_id(seed, key, f"{kind}:{n}"), faster
        h.update(f"{kind}:{self.counter}".encode())
        return _format_uuid5(h.hexdigest())

    def add(self, resource: dict) -> dict:
        self.resources.append(resource)
        return resource

    def days_ago(self, low: int, high: int) -> date:
        return REFERENCE_DATE - timedelta(days=self.rng.randint(low, high))

    # Patient -------------------------------------------------------------------------------
    def patient(self) -> str:
        plan, rng = self.plan, self.rng
        kommune_nr = self.kommune.kommunenummer
        if plan.other_kommune:  # a visitor or a resident of an IKS member kommune: not in this PLO EPJ
            others = [k for k in sorted(registries.kommuner()) if k != kommune_nr and registries.poststeder(k)]
            kommune_nr = rng.choice(others)
        k = registries.kommuner()[kommune_nr]
        post = rng.choice(registries.poststeder(kommune_nr))
        if plan.id_kind == "fhn":
            number = identifiers.synthetic_fh_nummer(rng)
        elif plan.id_kind == "dnr":
            number = identifiers.synthetic_d_nummer(plan.birth, plan.female, rng, plan.month_offset)
        else:
            number = identifiers.synthetic_fodselsnummer(plan.birth, plan.female, rng, plan.month_offset)
        given = plan.given or rng.choice(registries.names("female" if plan.female else "male"))
        family = plan.family or rng.choice(registries.names("family"))
        address = self._address(rng, post, k)
        addresses = [address]
        old = registries.tidligere_nummer(kommune_nr)
        if old is not None and plan.historic_address:  # a record from before 2024 keeps the old number
            historic = self._address(rng, post, k, old.nummer, old.navn)
            historic["use"] = "old"
            historic["period"] = {"end": old.gyldig_til}
            addresses.append(historic)
        patient = {
            "resourceType": "Patient", "id": self.patient_id, "meta": meta("sk-patient"),
            "identifier": [{"system": identifiers.SYSTEM_FOR_KIND[plan.id_kind], "value": number}],
            "active": True,
            "name": [{"use": "official", "family": family, "given": [given]}],
            "gender": "female" if plan.female else "male",
            "birthDate": plan.birth.isoformat(),
            "deceasedBoolean": False,
            "address": addresses,
            "communication": [{"language": _LANGUAGES[rng.choices(range(len(_LANGUAGES)), _LANGUAGE_WEIGHTS)[0]],
                               "preferred": True}],
            "generalPractitioner": [ref("PractitionerRole", self.gp[1])],
            "managingOrganization": ref("Organization", self.kommune.kommune_org_id),
        }
        if plan.age >= 18 and rng.random() < 0.6:
            patient["telecom"] = [_person_email(given, family)]
        self.add(patient)
        self.given, self.address = given, address
        return number

    @staticmethod
    def _address(rng: random.Random, post: registries.Poststed, k: registries.Kommune,
                 nummer: str | None = None, navn: str | None = None) -> dict:
        return {
            "use": "home", "type": "physical",
            "line": [f"{rng.choice(registries.names('street'))} {rng.randint(1, 120)}"],
            "postalCode": post.postnummer, "city": post.poststed,
            "district": navn or k.navn,
            "_district": {"extension": [{"url": EXT_MUNICIPALITY, "valueCoding": coding(
                registries.KOMMUNENUMMER_SYSTEM, nummer or k.nummer, navn or k.navn)}]},
            "state": k.fylke, "country": "NO",
        }

    # Problem, diagnose og behov -------------------------------------------------------------
    def conditions_and_medications(self) -> None:
        rng, age = self.rng, self.plan.age
        for key in self.plan.conditions:
            t = clinical.tilstander()[key]
            cid = self.new_id("Condition")
            self.conditions[key] = cid
            from_hospital = rng.random() < 0.3  # diagnoses from epikriser carry ICD-10
            system, (code, display) = (ICD10, t.icd10) if from_hospital else (ICPC2, t.icpc2)
            onset = self.days_ago(60, max(61, min(age, 30) * 365))
            resolved = key in ("urinveisinfeksjon",) and not self.plan.acute
            condition = self.add({
                "resourceType": "Condition", "id": cid, "meta": meta("sk-condition"),
                "clinicalStatus": concept(COND_CLINICAL, "resolved" if resolved else "active"),
                "verificationStatus": concept(COND_VERIFICATION, "confirmed"),
                "category": _PROBLEM_LIST,
                "code": {"coding": [coding(system, code, display)], "text": display},
                "subject": self.subject,
                "onsetDateTime": onset.isoformat(),
                "recordedDate": onset.isoformat(),
                "recorder": ref("Practitioner", self.gp[0]),
                "asserter": ref("Practitioner", self.gp[0]),
            })
            if resolved:
                condition["abatementDateTime"] = (onset + timedelta(days=rng.randint(5, 14))).isoformat()
            if from_hospital:
                condition["note"] = [{"text": "Diagnose fra epikrise etter sykehusinnleggelse."}]
                self.hospital_diagnosis = display
            for med in self._choose_medications(key):
                self._medication(med, cid, onset)

    def _choose_medications(self, key: str) -> list[clinical.Legemiddel]:
        options = clinical.legemidler().get(key, ())
        regular = [m for m in options if not m.ved_behov]
        chosen = self.rng.sample(regular, k=min(len(regular), self.rng.randint(1, 2))) if regular else []
        chosen += [m for m in options if m.ved_behov and (not regular or self.rng.random() < 0.5)]
        return chosen

    def _medication(self, med: clinical.Legemiddel, condition_id: str, onset: date) -> None:
        start = onset + timedelta(days=self.rng.randint(0, 30))
        start = min(start, REFERENCE_DATE - timedelta(days=1))
        period = {"start": start.isoformat()}
        if "i 5 dager" in med.dosering or "i 3 dager" in med.dosering:
            start = REFERENCE_DATE - timedelta(days=self.rng.randint(1, 3))
            period = {"start": start.isoformat(), "end": (start + timedelta(days=4)).isoformat()}
        self.add({
            "resourceType": "MedicationStatement", "id": self.new_id("MedicationStatement"),
            "meta": meta("sk-medicationstatement"), "status": "active",
            "medicationCodeableConcept": {"coding": [coding(ATC, med.atc, med.navn)], "text": med.navn},
            "subject": self.subject, "effectivePeriod": period, "dateAsserted": start.isoformat(),
            "informationSource": ref("PractitionerRole", self.gp[1]),
            "reasonReference": [ref("Condition", condition_id)],
            "dosage": [{"text": med.dosering, "asNeededBoolean": med.ved_behov}],
        })

    # Kritisk informasjon --------------------------------------------------------------------
    def allergies(self) -> None:
        for a in self.plan.allergies:
            recorded = self.days_ago(100, 3000).isoformat()
            aid = self.new_id("AllergyIntolerance")
            self.add({
                "resourceType": "AllergyIntolerance", "id": aid, "meta": meta("sk-allergyintolerance"),
                "clinicalStatus": concept(ALLERGY_CLINICAL, "active"),
                "verificationStatus": concept(ALLERGY_VERIFICATION, "confirmed"),
                "type": "allergy", "category": [a["kategori"]], "criticality": a["kritikalitet"],
                "code": {"coding": [coding(a["system"], a["kode"], a["visning"])], "text": a["visning"]},
                "patient": self.subject, "onsetDateTime": self.days_ago(3000, 20000).isoformat(),
                "recordedDate": recorded, "recorder": ref("Practitioner", self.gp[0]),
                "reaction": [{"substance": concept(a["system"], a["kode"], a["visning"]),
                              "manifestation": [{"text": a["reaksjon"]}], "severity": _SEVERITY[a["kritikalitet"]]}],
            })
            if a["kritikalitet"] == "high":
                self._flag("kritisk-allergi", "Kritisk allergi", f"Alvorlig allergi: {a['visning']} ({a['reaksjon']}).",
                           recorded)

    def _flag(self, code: str, display: str, text: str, start: str) -> None:
        self.add({
            "resourceType": "Flag", "id": self.new_id("Flag"), "meta": meta("sk-critical-information"),
            "status": "active", "category": category(FLAG_CATEGORY, "clinical", "Clinical"),
            "code": concept(CS_KRITISK, code, display, text),
            "subject": self.subject, "period": {"start": start},
            "author": ref("Practitioner", self.gp[0]),
        })

    def advance_directive(self) -> None:
        if not self.plan.hlr_minus:
            return
        when = self.days_ago(10, 700)
        self.add({
            "resourceType": "Consent", "id": self.new_id("Consent"), "meta": meta("sk-advance-directive"),
            "status": "active", "scope": concept(CONSENT_SCOPE, "adr", "Advanced Care Directive"),
            "category": [concept(CONSENT_CATEGORY, "dnr", "Do Not Resuscitate", "HLR minus")],
            "patient": self.subject, "dateTime": _timestamp(when, 11 * 60),
            "performer": [ref("Practitioner", self.gp[0])],
            "organization": [ref("Organization", self.kommune.kommune_org_id)],
            "sourceAttachment": {"contentType": "text/plain; charset=utf-8", "language": "nb",
                                 "title": "Beslutning om HLR minus",
                                 "data": _b64("Beslutning om å avstå fra hjerte-lunge-redning, drøftet med pasient "
                                              "og pårørende.")},
            "policy": [{"authority": "https://lovdata.no", "uri": "https://lovdata.no/lov/1999-07-02-63"}],
            "policyRule": {"text": "Pasient- og brukerrettighetsloven § 4-9; beslutning om HLR minus"},
            "provision": {"type": "deny", "period": {"start": when.isoformat()},
                          "code": [concept(SNOMED, "304253006", "Not for resuscitation",
                                           "Ikke gjenopplivning (HLR minus)")]},
        })
        self._flag("behandlingsbegrensning", "Behandlingsbegrensning",
                   "HLR minus: pasienten skal ikke gjenopplives.", when.isoformat())

    def sperring(self) -> None:
        if not self.plan.sperring:
            return
        provision: dict = {"type": "deny", "period": {"start": self.days_ago(5, 400).isoformat()}}
        blocked = self.kommune.unit("legevakt", self.rng)
        provision["actor"] = [{"role": concept(PARTICIPATION, "IRCP", "information recipient"),
                               "reference": ref("Organization", blocked.org_id, blocked.name)}]
        sensitive = next((c for c in ("depresjon", "demens") if c in self.conditions), None)
        if sensitive:  # named information, hidden from the named party
            provision["code"] = [concept(CS_SPERRETYPE, "opplysninger", "Sperring av opplysninger")]
            provision["data"] = [{"meaning": "instance", "reference": ref("Condition", self.conditions[sensitive])}]
        else:  # the named party may not see the patient's notes
            provision["code"] = [concept(CS_SPERRETYPE, "virksomhet", "Sperring mot virksomhet")]
            provision["class"] = [coding(RESOURCE_TYPES, "DocumentReference")]
        self.add({
            "resourceType": "Consent", "id": self.new_id("Consent"), "meta": meta("sk-sperring"),
            "status": "active", "scope": concept(CONSENT_SCOPE, "patient-privacy", "Privacy Consent"),
            "category": [concept(LOINC, "59284-0", "Patient Consent", "Sperring")],
            "patient": self.subject, "dateTime": _timestamp(self.days_ago(5, 400), 10 * 60),
            "performer": [self.subject],  # the patient decides the block
            "organization": [ref("Organization", self.kommune.kommune_org_id)],
            "policyRule": concept(ACT_CODE, "OPTOUT", "opt-out", "Pasientens reservasjon (sperring)"),
            "provision": provision,
        })

    # Tjenester: vedtak ------------------------------------------------------------------------
    def vedtak(self) -> list[tuple[str, date]]:
        """One EpisodeOfCare per service; returns (unit kind, start) of the ongoing ones."""
        rng, started = self.rng, []
        kommune_nr = self.kommune.kommunenummer
        for n, key in enumerate(self.plan.services):
            s = clinical.tjenester()[key]
            if s.varighet_dager:
                start = self.days_ago(0, 400)
                end: date | None = start + timedelta(days=rng.randint(*s.varighet_dager))
            else:
                start = self.days_ago(14, 6 * 365)
                end = None
            status = "active" if end is None or end >= REFERENCE_DATE else "finished"
            draw = rng.random()
            if draw < 0.03:
                start, end, status = REFERENCE_DATE + timedelta(days=rng.randint(3, 30)), None, "planned"
            elif draw < 0.045:
                status = "cancelled"
            unit = self.home if s.enhet == self.home.kind else self.kommune.unit(s.enhet, rng)
            review = start + timedelta(days=rng.choice((90, 180, 365)))
            episode = {
                "resourceType": "EpisodeOfCare", "id": self.new_id("EpisodeOfCare"), "meta": meta("sk-kommunal-tjeneste"),
                "extension": [],
                "identifier": [{"system": f"{SK}/sid/vedtak/{kommune_nr}", "value": f"{start.year}-{self.key}-{n + 1}"}],
                "status": status,
                "type": [{"coding": [coding(f"{SK}/CodeSystem/lokal-tjeneste-{kommune_nr}", s.lokal[0], s.lokal[1]),
                                     coding(CS_KPR, s.kpr, clinical.kpr_tjenestetyper()[s.kpr])],
                          "text": s.lokal[1]}],
                "patient": self.subject,
                "managingOrganization": ref("Organization", unit.org_id, unit.name),
                "period": {"start": start.isoformat()},
                "careManager": ref("Practitioner", self.kommune.staff("tildelingskontor", rng)[0]),
            }
            if s.timer:
                hours = round(rng.uniform(*s.timer) * 2) / 2
                episode["extension"].append({"url": EXT_VEDTAKSTIMER, "valueQuantity": {"value": hours, **_HOURS_PER_WEEK}})
            episode["extension"].append({"url": EXT_REVURDERINGSDATO, "valueDate": review.isoformat()})
            episode["extension"].append({"url": EXT_VEDTAKSTEKST, "valueString": rng.choice(s.tekst)})
            if end is not None:
                episode["period"]["end"] = end.isoformat()
            self.add(episode)
            if status in ("active", "finished"):
                started.append((s.enhet, start))
        return started

    # Funksjonsvurdering (IPLOS) -------------------------------------------------------------
    def functional_assessment(self, when: date) -> None:
        rng, conditions = self.rng, set(self.plan.conditions)
        base = 1 + (self.plan.age >= 80) + (self.plan.age >= 90) + ("langtidsopphold" in self.plan.services) * 2
        heavier = {"kognitiv": 2 * ("demens" in conditions),
                   "mobilitet": bool({"hoftebrudd", "hjerneslag", "parkinson", "artrose"} & conditions),
                   "personlig": bool({"demens", "hjerneslag", "parkinson"} & conditions)}
        performer = ref("Practitioner", self.kommune.staff("tildelingskontor", rng)[0])
        effective = _timestamp(when, 10 * 60)
        for v in clinical.iplos_variabler():
            value = 9 if rng.random() < 0.02 else max(1, min(5, base + heavier.get(v["domene"], 0) + rng.randint(-1, 1)))
            self.add({
                "resourceType": "Observation", "id": self.new_id("Observation"), "meta": meta("sk-functional-assessment"),
                "status": "final", "category": _SURVEY,
                "code": _iplos_code(v["kode"], v["visning"]),
                "subject": self.subject, "effectiveDateTime": effective, "performer": [performer],
                "valueInteger": value,
            })

    # Care plans -----------------------------------------------------------------------------
    def care_plans(self) -> None:
        areas: list[tuple[str, str | None]] = []
        for key in self.plan.conditions:
            for area in clinical.tilstander()[key].problemomrader:
                if area not in [a for a, _ in areas]:
                    areas.append((area, self.conditions.get(key)))
        if "hjemmesykepleie" in self.plan.services and "personlig-hygiene" not in [a for a, _ in areas]:
            areas.append(("personlig-hygiene", None))
        if "langtidsopphold" in self.plan.services:
            areas.append(("vaeske-ernaering", None))
        author = ref("Practitioner", self.rng.choice(self.home.staff)[0])
        for area, condition_id in areas[:3]:
            p = clinical.problemomrader()[area]
            plan = {
                "resourceType": "CarePlan", "id": self.new_id("CarePlan"), "meta": meta("sk-careplan"),
                "status": "active", "intent": "plan",
                "category": [concept(CS_PROBLEMOMRADE, area, p["visning"])],
                "title": f"Tiltaksplan: {p['visning']}",
                "description": f"Situasjon: {p['situasjon']} Mål: {p['mal']}",
                "subject": self.subject, "period": {"start": self.days_ago(7, 500).isoformat()},
                "author": author,
                "goal": [{"reference": "#mal"}],
                "activity": [{"detail": {"status": "in-progress", "description": p["tiltak"]}}],
            }
            # the goal lives inside its plan: a Goal contained, so the plan stays one resource
            plan["contained"] = [{"resourceType": "Goal", "id": "mal", "lifecycleStatus": "active",
                                  "description": {"text": p["mal"]}, "subject": self.subject}]
            if self.rng.random() < 0.4:
                plan["note"] = [{"text": "Tiltaksplanen evaluert sammen med bruker; videreføres."}]
            if condition_id:
                plan["addresses"] = [ref("Condition", condition_id)]
            self.add(plan)

    # NEWS2 ----------------------------------------------------------------------------------
    def news2_series(self, admissions: list[tuple[str, date]]) -> None:
        plan, rng = self.plan, self.rng
        mods: dict[str, float] = {}
        for key in plan.conditions:
            for name, shift in clinical.tilstander()[key].news2.items():
                if name in ("uregelmessig", "oksygen", "spo2_skala"):
                    mods[name] = max(mods.get(name, 0), shift)
                else:
                    mods[name] = mods.get(name, 0) + shift
        scale = int(mods.get("spo2_skala", 1))
        baseline = {"resp": 16 + mods.get("respirasjon", 0), "spo2": 97 + mods.get("spo2", 0),
                    "sys": 126 + (plan.age >= 60) * 8 + mods.get("systolisk", 0), "pulse": 72 + mods.get("puls", 0)}
        long_term_oxygen = rng.random() < mods.get("oksygen", 0)
        irregular = rng.random() < mods.get("uregelmessig", 0.03)
        kad = [start for kind, start in admissions if kind == "kad"]
        unit_kind = "kad" if kad else self.home.kind
        first_day = kad[0] if kad else self.days_ago(1, 365)
        for n in range(plan.news2_sets):
            acute = plan.acute and n == plan.news2_sets - 1
            day = first_day + timedelta(days=n // 2) if kad else first_day + timedelta(days=n * rng.randint(20, 90))
            day = min(day, REFERENCE_DATE - timedelta(days=1))
            minutes = (8 * 60 + rng.randint(0, 90)) if n % 2 == 0 else (19 * 60 + rng.randint(0, 90))
            encounter = {"identifier": {"system": f"{SK}/sid/kontakt", "value": f"{self.key}-kad"},
                         "display": "Opphold KAD"} if kad else None
            self._news2_set(baseline, scale, long_term_oxygen, irregular, acute, _timestamp(day, minutes),
                            self.kommune.staff(unit_kind, rng)[0], encounter)

    def _news2_set(self, base: dict, scale: int, oxygen: bool, irregular: bool, acute: bool,
                   when: str, performer_id: str, encounter: dict | None) -> None:
        rng = self.rng
        shift = (6, -4, -18, 22, 1.4) if acute else (0, 0, 0, 0, 0)
        on_oxygen = oxygen or (acute and rng.random() < 0.4)
        spo2 = round(rng.gauss(base["spo2"] + shift[1] + (2 if on_oxygen else 0), 1.2))
        spo2 = max(80, min(100, spo2)) if scale == 1 else max(80, min(97, spo2))
        systolic = max(70, round(rng.gauss(base["sys"] + shift[2], 10)))
        consciousness = "A"
        if acute and rng.random() < 0.35 + 0.3 * ("demens" in self.plan.conditions):
            consciousness = rng.choices("CVPU", weights=(10, 5, 3, 2))[0]
        vitals = news2.Vitals(
            respiratory_rate=max(6, round(rng.gauss(base["resp"] + shift[0], 1.5))), spo2=spo2, spo2_scale=scale,
            on_oxygen=on_oxygen, systolic=systolic, diastolic=max(40, round(systolic * 0.6 + rng.gauss(0, 5))),
            pulse=max(35, round(rng.gauss(base["pulse"] + shift[3], 6))), pulse_regular=not irregular,
            consciousness=consciousness, temperature=round(rng.gauss(36.8 + shift[4], 0.3), 1))
        result = news2.score(vitals)
        common = {"status": "final", "subject": self.subject, "effectiveDateTime": when,
                  "performer": [ref("Practitioner", performer_id)]}
        if encounter:
            common["encounter"] = encounter
        oxygen_value: dict = {"valueCodeableConcept": _OXYGEN if on_oxygen else _AIR}
        if on_oxygen:
            oxygen_value["component"] = [{"code": _FLOW_RATE, "valueQuantity": _quantity(rng.choice((1, 2, 3)), "L/min")}]
        values = [
            {"valueQuantity": _quantity(vitals.respiratory_rate, "/min")},
            {"valueQuantity": _quantity(vitals.spo2, "%"), "component": [_SPO2_SCALE[scale]]},
            oxygen_value,
            {"valueQuantity": _quantity(vitals.pulse, "/min"),
             "component": [_REGULAR if vitals.pulse_regular else _IRREGULAR]},
            {"component": [{"code": _SYSTOLIC, "valueQuantity": _quantity(vitals.systolic, "mm[Hg]")},
                           {"code": _DIASTOLIC, "valueQuantity": _quantity(vitals.diastolic, "mm[Hg]")}]},
            {"valueCodeableConcept": _ACVPU_CONCEPTS[consciousness]},
            {"valueQuantity": _quantity(vitals.temperature, "Cel")},
        ]
        # now and then one parameter is not measured (the blood pressure, which the profile requires,
        # always is): that measurement says why, keeps its components, and the set gets no NEWS2 score
        incomplete = not acute and rng.random() < 0.03
        if incomplete:
            missing = rng.choice((0, 1, 2, 3, 5, 6))
            kept = {k: v for k, v in values[missing].items() if k == "component" and missing != 2}
            values[missing] = {"dataAbsentReason": _DATA_ABSENT, **kept}
        derived = []
        for (profile, code), value in zip(_MEASUREMENTS, values):
            oid = self.new_id("Observation")
            derived.append({"reference": f"Observation/{oid}"})
            self.add({"resourceType": "Observation", "id": oid, "meta": meta(profile), "category": _VITAL_SIGNS,
                      "code": code, **common, **value})
        if incomplete:
            return
        self.add({
            "resourceType": "Observation", "id": self.new_id("Observation"), "meta": meta("sk-news2-score"),
            "category": _SURVEY, "code": _NEWS2_TOTAL, **common,
            "valueInteger": result.total,
            "interpretation": [{"text": f"Klinisk risiko: {result.risk}"}],
            "component": [{"code": _COMPONENT_CODES[name], "valueInteger": value}
                          for name, value in result.components.items()],
            "derivedFrom": derived,
        })

    # Bakgrunn, pårørende, notater -----------------------------------------------------------
    def social_history(self) -> None:
        rng, plan = self.rng, self.plan
        when = _timestamp(self.days_ago(30, 900), 9 * 60)
        performer = [ref("Practitioner", self.gp[0])]
        if plan.age >= 16:
            smoking = _TOBACCO[rng.choice((1, 2))] if "kols" in plan.conditions or "lungekreft" in plan.conditions \
                else rng.choices(_TOBACCO, weights=(55, 30, 15))[0]
            self.add({
                "resourceType": "Observation", "id": self.new_id("Observation"), "meta": meta("sk-social-history"),
                "status": "final", "category": _SOCIAL, "code": concept(LOINC, "72166-2", "Tobacco smoking status", "Røyking"),
                "subject": self.subject, "effectiveDateTime": when, "performer": performer,
                "valueCodeableConcept": concept(SNOMED, smoking[0], smoking[1]),
            })
        situation = "sykehjem" if "langtidsopphold" in plan.services else "barn" if plan.age < 18 else \
            "omsorgsbolig" if "bolig" in plan.services else rng.choice(("alene", "ektefelle"))
        texts = [r["tekst"] for r in clinical.sosialt() if r["situasjon"] == situation and plan.age >= int(r["alder_fra"])]
        text = rng.choice(texts or [r["tekst"] for r in clinical.sosialt() if r["situasjon"] == "alene"])
        self.add({
            "resourceType": "Observation", "id": self.new_id("Observation"), "meta": meta("sk-social-history"),
            "status": "final", "category": _SOCIAL, "code": concept(LOINC, "29762-2", "Social history Narrative", "Sosial anamnese"),
            "subject": self.subject, "effectiveDateTime": when, "performer": performer, "valueString": text,
        })

    def related_persons(self) -> None:
        rng, plan = self.rng, self.plan
        relatives = plan.relatives
        if not relatives and plan.persona is None:
            if plan.age < 18:
                relatives = [{"relasjon": rng.choice(("MTH", "FTH"))}]
            elif plan.age >= 60 or plan.services:
                relatives = [{"relasjon": rng.choice(("DAU", "SON", "WIFE" if not plan.female else "HUSB", "SIS"))}]
        for r in relatives:
            female = r["relasjon"] in ("DAU", "WIFE", "MTH", "SIS")
            given = r.get("fornavn") or rng.choice(registries.names("female" if female else "male"))
            family = r.get("etternavn") or rng.choice(registries.names("family"))
            self.add({
                "resourceType": "RelatedPerson", "id": self.new_id("RelatedPerson"), "meta": meta("sk-relatedperson"),
                "active": True, "patient": self.subject,
                "relationship": [concept(ROLE_CODE, r["relasjon"], None, f"Nærmeste pårørende ({_RELATIONS[r['relasjon']]})")],
                "name": [{"family": family, "given": [given]}],
                "gender": "female" if female else "male",
                "telecom": [_person_email(given, family)],
                "address": [self.address if r["relasjon"] in ("WIFE", "HUSB") or plan.age < 18 else
                            self._address(rng, rng.choice(registries.poststeder(self.kommune.kommunenummer)),
                                          registries.kommuner()[self.kommune.kommunenummer])],
            })

    def notes(self) -> None:
        rng, plan = self.rng, self.plan
        kinds = ["sykehjem" if "langtidsopphold" in plan.services else "hjemmebesok"] if plan.services else []
        kinds.append("fastlege")
        if plan.acute:
            kinds.append("legevakt")
        for kind in kinds:
            note = rng.choice(clinical.notater()[kind])
            text = note["tekst"].format(fornavn=self.given)
            unit = self.kommune.unit("legekontor", rng) if kind == "fastlege" else \
                self.kommune.unit("legevakt", rng) if kind == "legevakt" else self.home
            author = self.gp if kind == "fastlege" else rng.choice(unit.staff)
            internal = note["intern"] == "1"
            doc = {
                "resourceType": "DocumentReference", "id": self.new_id("DocumentReference"),
                "meta": meta("sk-documentreference"), "status": "current",
                "type": concept(LOINC, "11506-3", "Progress note", "Fortløpende notat"),
                "category": [{"text": _NOTE_CATEGORY[kind]}],
                "subject": self.subject, "date": _timestamp(self.days_ago(1, 200), rng.randint(7 * 60, 22 * 60)),
                "author": [ref("Practitioner", author[0])],
                "custodian": ref("Organization", unit.org_id, unit.name),
                "securityLabel": [{"coding": [_RESTRICTED if internal else _NORMAL]}],
                "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "language": "nb",
                                            "data": _b64(text), "title": "Notat"}}],
            }
            if internal:  # internal-only: not shared outside the organisation, except with the patient
                doc["meta"]["security"] = [_RESTRICTED]
            self.add(doc)
        if self.hospital_diagnosis:
            self._epikrise()

    def _epikrise(self) -> None:
        """A discharge summary from the hospital, held in national document sharing: referenced by url."""
        admitted = self.days_ago(20, 900)
        doc_id = self.new_id("DocumentReference")
        self.add({
            "resourceType": "DocumentReference", "id": doc_id, "meta": meta("sk-documentreference"),
            "status": "current", "type": concept(LOINC, "18842-5", "Discharge summary", "Epikrise"),
            "category": [{"text": "Epikrise"}], "subject": self.subject,
            "date": _timestamp(admitted + timedelta(days=4), 14 * 60),
            "custodian": ref("Organization", self.kommune.kommune_org_id),
            "securityLabel": [{"coding": [_NORMAL]}],
            "content": [{"attachment": {"contentType": "application/pdf", "language": "nb",
                                        "url": f"{SK}/dokumentdeling/Binary/{doc_id}",
                                        "title": f"Epikrise: {self.hospital_diagnosis}"}}],
            "context": {"period": {"start": admitted.isoformat(),
                                   "end": (admitted + timedelta(days=self.rng.randint(2, 9))).isoformat()}},
        })

    def provenance(self) -> None:
        self.add({
            "resourceType": "Provenance", "id": self.new_id("Provenance"), "meta": meta("sk-provenance"),
            "target": [{"reference": f"{r['resourceType']}/{r['id']}"} for r in self.resources],
            "recorded": _timestamp(REFERENCE_DATE - timedelta(days=1), 23 * 60),
            "activity": _DATA_OPERATION_CREATE,
            "agent": [{"type": concept(PROVENANCE_AGENT, "author", "Author"),
                       "who": ref("Practitioner", self.kommune.staff("tildelingskontor", self.rng)[0]),
                       "onBehalfOf": ref("Organization", self.kommune.kommune_org_id)}],
            "entity": [{"role": "source", "what": {
                "identifier": {"system": SID_KILDESYSTEM, "value": "sandkasse-plo-epj"}, "display": "Sandkasse PLO EPJ"}}],
        })


def _build(seed: int, key: int | str, plan: Plan, kommunenummer: str, rng: random.Random) -> SyntheticPatient:
    b = _Builder(seed, key, plan, municipality(seed, kommunenummer), rng)
    number = b.patient()
    b.conditions_and_medications()
    b.allergies()
    b.advance_directive()
    b.sperring()
    started = b.vedtak()
    if started and any(kind != "helsestasjon" for kind, _ in started):
        b.functional_assessment(min(start for _, start in started))
    b.care_plans()
    b.news2_series(started)
    b.social_history()
    b.related_persons()
    b.notes()
    b.provenance()
    return SyntheticPatient(index=key, fodselsnummer=number, resources=b.resources, persona=plan.persona)


def generate_patient(seed: int, index: int, kommunenummer: str = "0301",
                     population: Population = DEFAULT_POPULATION) -> SyntheticPatient:
    """Random patient number `index` of the cohort (seed, kommunenummer, population)."""
    rng = patient_rng(seed, index)
    return _build(seed, index, plan_random(rng, population), kommunenummer, rng)


def generate_persona(seed: int, key: str, kommunenummer: str = "0301") -> SyntheticPatient:
    """A named persona from personas.yaml; its details are drawn from its own stream."""
    if key not in clinical.personas():
        raise KeyError(f"unknown persona {key!r}; known: {', '.join(clinical.personas())}")
    rng = patient_rng(seed, f"persona:{key}")
    return _build(seed, f"persona-{key}", plan_persona(key, rng), kommunenummer, rng)
