"""Clinical coherence per patient: the conditions, medications, NEWS2 baseline, services and plans fit."""
from __future__ import annotations

from datetime import date

import pytest

from synthetic_data import CohortSpec, clinical, generate_patient, generate_persona, iter_patients, news2
from synthetic_data.generator import REFERENCE_DATE, Population

NEWS2_CS = "https://sandkasse.no/fhir/CodeSystem/news2"


def _profile(r: dict) -> str:
    return r["meta"]["profile"][0].rsplit("/", 1)[1]


def _by_profile(resources: list[dict], profile: str) -> list[dict]:
    return [r for r in resources if _profile(r) == profile]


def _condition_keys(resources: list[dict]) -> dict[str, str]:
    """Condition id → tilstand key, through the codes in tilstander.yaml."""
    by_code = {}
    for key, t in clinical.tilstander().items():
        by_code[t.icpc2[0]] = by_code[t.icd10[0]] = key
    return {r["id"]: by_code[r["code"]["coding"][0]["code"]] for r in resources if r["resourceType"] == "Condition"}


def _kols_patients(cohort) -> list:
    return [p for p in cohort if "kols" in _condition_keys(p.resources).values()]


def test_kols_patients_have_an_inhaler_and_spo2_scale_2(default_cohort) -> None:
    kols = _kols_patients(default_cohort)
    assert len(kols) > 20
    for p in kols:
        conditions = _condition_keys(p.resources)
        kols_id = next(cid for cid, key in conditions.items() if key == "kols")
        inhalers = [m for m in p.resources if m["resourceType"] == "MedicationStatement"
                    and m["medicationCodeableConcept"]["coding"][0]["code"].startswith("R03")
                    and m["reasonReference"][0]["reference"] == f"Condition/{kols_id}"]
        assert inhalers, p.patient["id"]
        for spo2 in _by_profile(p.resources, "sk-news2-oxygen-saturation"):
            assert spo2["component"][0]["valueInteger"] == 2
        plans = {c["code"] for r in _by_profile(p.resources, "sk-careplan") for c in r["category"][0]["coding"]}
        assert "respirasjon" in plans


def test_kols_and_heart_failure_raise_the_news2_baseline(default_cohort) -> None:
    def mean_total(patients) -> float:
        totals = [r["valueInteger"] for p in patients for r in _by_profile(p.resources, "sk-news2-score")]
        return sum(totals) / len(totals)
    chronic = [p for p in default_cohort if {"kols", "hjertesvikt"} & set(_condition_keys(p.resources).values())]
    others = [p for p in default_cohort if p not in chronic and _by_profile(p.resources, "sk-news2-score")]
    assert mean_total(chronic) >= mean_total(others) + 1.0


def test_news2_scores_follow_the_rcp_rules_from_their_own_measurements(default_cohort) -> None:
    checked = 0
    for p in default_cohort:
        by_ref = {f"Observation/{r['id']}": r for r in p.resources if r["resourceType"] == "Observation"}
        for score in _by_profile(p.resources, "sk-news2-score"):
            m = {_profile(by_ref[d["reference"]]): by_ref[d["reference"]] for d in score["derivedFrom"]}
            assert len(score["derivedFrom"]) == 7 and len(m) == 7
            assert len({r["effectiveDateTime"] for r in m.values()} | {score["effectiveDateTime"]}) == 1
            bp = {c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"]
                  for c in m["sk-news2-blood-pressure"]["component"]}
            vitals = news2.Vitals(
                respiratory_rate=m["sk-news2-respiratory-rate"]["valueQuantity"]["value"],
                spo2=m["sk-news2-oxygen-saturation"]["valueQuantity"]["value"],
                spo2_scale=m["sk-news2-oxygen-saturation"]["component"][0]["valueInteger"],
                on_oxygen=m["sk-news2-supplemental-oxygen"]["valueCodeableConcept"]["coding"][0]["code"] == "oxygen",
                systolic=bp["8480-6"], diastolic=bp["8462-4"],
                pulse=m["sk-news2-heart-rate"]["valueQuantity"]["value"], pulse_regular=True,
                consciousness=m["sk-news2-consciousness"]["valueCodeableConcept"]["coding"][0]["code"],
                temperature=m["sk-news2-body-temperature"]["valueQuantity"]["value"])
            expected = news2.score(vitals)
            components = {c["code"]["coding"][0]["code"]: c["valueInteger"] for c in score["component"]}
            assert components == expected.components
            assert score["valueInteger"] == expected.total == sum(components.values())
            checked += 1
    assert checked > 500


def test_incomplete_news2_sets_have_no_score(default_cohort) -> None:
    absent = [r for p in default_cohort for r in p.resources if "dataAbsentReason" in r]
    assert absent
    for p in default_cohort:
        derived = {d["reference"] for s in _by_profile(p.resources, "sk-news2-score") for d in s["derivedFrom"]}
        for r in p.resources:
            if "dataAbsentReason" in r:
                assert f"Observation/{r['id']}" not in derived


def test_medications_treat_the_condition_they_reference(default_cohort) -> None:
    atc_for = {key: {m.atc for m in meds} for key, meds in clinical.legemidler().items()}
    for p in default_cohort:
        conditions = _condition_keys(p.resources)
        for m in p.resources:
            if m["resourceType"] == "MedicationStatement":
                key = conditions[m["reasonReference"][0]["reference"].split("/")[1]]
                assert m["medicationCodeableConcept"]["coding"][0]["code"] in atc_for[key]


def test_vedtak_carry_k1_to_k9_and_trigger_an_iplos_assessment(default_cohort) -> None:
    for p in default_cohort:
        vedtak = [r for r in p.resources if r["resourceType"] == "EpisodeOfCare"]
        for v in vedtak:
            systems = [c["system"] for c in v["type"][0]["coding"]]
            assert systems[0].endswith("/lokal-tjeneste-0301") and systems[1].endswith("/kpr-tjenestetype")
            assert v["type"][0]["text"] and v["identifier"][0]["system"].endswith("/sid/vedtak/0301")
            urls = {e["url"].rsplit("/", 1)[1] for e in v["extension"]}
            assert {"revurderingsdato", "vedtakstekst"} <= urls
            if v["status"] == "finished":
                assert date.fromisoformat(v["period"]["end"]) < REFERENCE_DATE
            if v["status"] == "planned":
                assert date.fromisoformat(v["period"]["start"]) > REFERENCE_DATE
        started = [v for v in vedtak if v["status"] in ("active", "finished")
                   and v["type"][0]["coding"][1]["code"] != "33"]
        iplos = _by_profile(p.resources, "sk-functional-assessment")
        assert len(iplos) == (len(clinical.iplos_variabler()) if started else 0)
        assert all(r["valueInteger"] in (1, 2, 3, 4, 5, 9) for r in iplos)


def test_hlr_minus_is_a_consent_and_a_critical_information_flag(default_cohort) -> None:
    with_dnr = 0
    for p in default_cohort:
        adr = _by_profile(p.resources, "sk-advance-directive")
        flags = {f["code"]["coding"][0]["code"] for f in _by_profile(p.resources, "sk-critical-information")}
        assert bool(adr) == ("behandlingsbegrensning" in flags)
        with_dnr += bool(adr)
        for a in _by_profile(p.resources, "sk-allergyintolerance"):
            assert (a["criticality"] == "high") <= ("kritisk-allergi" in flags)
    assert with_dnr > 10


def test_elderly_have_more_services_than_younger_adults(default_cohort) -> None:
    def share(lo: int, hi: int) -> float:
        group = [p for p in default_cohort if not p.persona
                 and lo <= (REFERENCE_DATE - date.fromisoformat(p.patient["birthDate"])).days // 365 <= hi]
        return sum(any(r["resourceType"] == "EpisodeOfCare" for r in p.resources) for p in group) / len(group)
    assert share(80, 110) > share(18, 66) + 0.3


@pytest.mark.parametrize("key", list(clinical.personas()))
def test_personas_follow_their_story(key: str) -> None:
    persona = clinical.personas()[key]
    p = generate_persona(42, key)
    patient = p.patient
    assert patient["name"][0]["given"] == [persona["fornavn"]] and patient["name"][0]["family"] == persona["etternavn"]
    assert patient["gender"] == persona["kjonn"]
    age = (REFERENCE_DATE - date.fromisoformat(patient["birthDate"])).days // 365
    assert age == persona["alder"]
    assert sorted(_condition_keys(p.resources).values()) == sorted(persona["tilstander"])
    services = [clinical.tjenester()[s].lokal[0] for s in persona["tjenester"]]
    assert [v["type"][0]["coding"][0]["code"] for v in p.resources if v["resourceType"] == "EpisodeOfCare"] == services
    assert bool(_by_profile(p.resources, "sk-advance-directive")) == bool(persona.get("hlr_minus"))
    assert bool(_by_profile(p.resources, "sk-sperring")) == bool(persona.get("sperring"))
    relatives = [r["relationship"][0]["coding"][0]["code"] for r in p.resources if r["resourceType"] == "RelatedPerson"]
    assert relatives == [r["relasjon"] for r in persona.get("parorende", [])]
    district = patient["address"][0]["_district"]["extension"][0]["valueCoding"]["code"]
    assert (district != "0301") == (persona.get("bosted") == "annen-kommune")


def test_petter_has_hlr_minus_visible_at_first_contact() -> None:
    p = generate_persona(1, "petter")
    consent = _by_profile(p.resources, "sk-advance-directive")[0]
    assert consent["scope"]["coding"][0]["code"] == "adr" and consent["provision"]["type"] == "deny"
    assert consent["provision"]["code"][0]["coding"][0]["code"] == "304253006"


def test_age_distribution_and_prevalence_options() -> None:
    elderly = Population.parse("eldre")
    kols_everywhere = Population.parse("voksne", (("kols", 1.0), ("demens", 0.0)))
    for i in range(30):
        p = generate_patient(4, i, population=elderly)
        assert (REFERENCE_DATE - date.fromisoformat(p.patient["birthDate"])).days // 365 >= 67
        keys = set(_condition_keys(generate_patient(4, i, population=kols_everywhere).resources).values())
        assert "kols" in keys and "demens" not in keys
    custom = Population.parse("0-5:1")
    assert all((REFERENCE_DATE - date.fromisoformat(generate_patient(4, i, population=custom).patient["birthDate"]))
               .days // 365 <= 5 for i in range(10))
    for bad in ("gamle", "5-1:1", "0-17:x", "0-17:0"):
        with pytest.raises(ValueError):
            Population.parse(bad)
    with pytest.raises(ValueError, match="unknown condition"):
        Population.parse(prevalence=(("influensa", 0.1),))


def test_cohort_lives_in_the_chosen_kommune() -> None:
    patients = list(iter_patients(CohortSpec(size=40, seed=3, kommunenummer="4601")))
    in_bergen = [p for p in patients if p.patient["address"][0]["_district"]["extension"][0]["valueCoding"]["code"]
                 == "4601"]
    assert len(in_bergen) >= 35
    assert all(p.patient["address"][0]["postalCode"][0] == "5" for p in in_bergen)


def test_historic_addresses_use_the_number_valid_before_2024() -> None:
    spec = CohortSpec(size=60, seed=3, kommunenummer="3201", historic_addresses=True)
    old = [a for p in iter_patients(spec) for a in p.patient["address"] if a.get("use") == "old"]
    assert old and all(a["_district"]["extension"][0]["valueCoding"]["code"] == "3024"
                       and a["period"]["end"] == "2023-12-31" for a in old)
    plain = list(iter_patients(CohortSpec(size=60, seed=3, kommunenummer="3201")))
    assert not [a for p in plain for a in p.patient["address"] if a.get("use") == "old"]
