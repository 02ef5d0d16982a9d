"""The two information services' own rules: Kommunale tjenester (K1–K9) and NEWS2 (N1–N9)."""
from __future__ import annotations

import pytest

from conformance.checks import fail, requirement
from conformance.suite.server import support

SD = "https://sandkasse.no/fhir/StructureDefinition/"
# K element → how to find it in a served vedtak (EpisodeOfCare); compared with the cohort.
K_ELEMENTS = {
    "K1-local-service": lambda r: [c for c in r.get("type", [{}])[0].get("coding", [])
                                   if "lokal-tjeneste" in c.get("system", "")] + [r.get("type", [{}])[0].get("text")],
    "K2-national-service-type": lambda r: [c for t in r.get("type", []) for c in t.get("coding", [])
                                           if c.get("system", "").endswith("/kpr-tjenestetype")],
    "K3-status": lambda r: r.get("status"),
    "K4-vedtakstimer": lambda r: [e.get("valueQuantity") for e in r.get("extension", []) if e.get("url") == SD + "vedtakstimer"],
    "K5-start": lambda r: (r.get("period") or {}).get("start"),
    "K6-end": lambda r: (r.get("period") or {}).get("end"),
    "K7-revurderingsdato": lambda r: [e.get("valueDate") for e in r.get("extension", []) if e.get("url") == SD + "revurderingsdato"],
    "K9-identifier-and-tjenestested": lambda r: [r.get("identifier"), (r.get("managingOrganization") or {}).get("reference")],
}
NEWS2 = "https://sandkasse.no/fhir/CodeSystem/news2"
MEASUREMENT_PROFILES = ["sk-news2-respiratory-rate", "sk-news2-oxygen-saturation", "sk-news2-supplemental-oxygen",
                        "sk-news2-heart-rate", "sk-news2-blood-pressure", "sk-news2-consciousness",
                        "sk-news2-body-temperature"]


@requirement("SK-KT-001")
@pytest.mark.parametrize("element", list(K_ELEMENTS))
def test_vedtak_element_as_loaded(served, ground_truth, element: str) -> None:
    support.require_in_cohort(ground_truth, "EpisodeOfCare")
    get = K_ELEMENTS[element]
    served_by_id = {r.get("id"): r for r in served.resources("EpisodeOfCare")}
    for expected in served.expected("EpisodeOfCare"):
        actual = served_by_id.get(expected["id"])
        if actual is None:
            fail(f"EpisodeOfCare/{expected['id']} (a vedtak of the cohort) is not served.",
                 "Load and serve every vedtak of the published cohort.")
        want = support.normalise(get(expected), ground_truth.reference, frozenset())
        if get(actual) != want:
            fail(f"EpisodeOfCare/{expected['id']} {element} is {get(actual)!r}, but the vedtak has {want!r}.",
                 f"Serve {element} of every vedtak exactly as registered (information-model K1–K9).")


def _scores(served) -> list[dict]:
    return [r for r in served.resources("Observation")
            if support.PROFILE_BASE + "sk-news2-score" in (r.get("meta") or {}).get("profile", [])]


def _need_scores(served, ground_truth) -> list[dict]:
    support.require_in_cohort(ground_truth, "Observation")
    scores = _scores(served)
    if not scores and not any(support.PROFILE_BASE + "sk-news2-score" in (r.get("meta") or {}).get("profile", [])
                              for r in served.expected("Observation")):
        pytest.skip("not applicable: the sampled patients have no NEWS2 score")
    return scores


@requirement("SK-N2-001")
def test_news2_total_is_sum_of_component_scores(served, ground_truth) -> None:
    for score in _need_scores(served, ground_truth):
        parts = [c.get("valueInteger") for c in score.get("component", [])
                 if any(cd.get("system") == NEWS2 and cd.get("code", "").endswith("-score")
                        for cd in (c.get("code") or {}).get("coding", []))]
        if len(parts) != 7 or None in parts or sum(parts) != score.get("valueInteger"):
            fail(f"Observation/{score.get('id')} (NEWS2 score) has total {score.get('valueInteger')!r} and "
                 f"component scores {parts}; the total must be the sum of the seven component scores.",
                 "Serve all seven NEWS2 component scores and a total equal to their sum (RCP NEWS2).")


@requirement("SK-N2-002")
def test_news2_score_comes_with_its_measurements(served, ground_truth) -> None:
    for score in _need_scores(served, ground_truth)[:5]:
        query = {"_id": score["id"], "_include": "Observation:derived-from"}
        got, included, _ = support.search_all(served.client, "Observation", query)
        wanted = {served.truth.reference(d.get("reference", "")).split("/")[-1] for d in score.get("derivedFrom", [])}
        have = {r.get("id") for r in included}
        if len(wanted) < 7 or not wanted <= have:
            fail(f"Observation?_id={score['id']}&_include=Observation:derived-from returned "
                 f"{len(have & wanted)} of the score's {len(wanted)} measurements (7 needed).",
                 "Link every NEWS2 score to its seven measurements (derivedFrom) and support "
                 "_include=Observation:derived-from.")


@requirement("SK-N2-003")
@pytest.mark.parametrize("profile_id", MEASUREMENT_PROFILES)
def test_news2_trend_per_parameter(served, ground_truth, profile_id: str) -> None:
    support.require_in_cohort(ground_truth, "Observation")
    url = support.PROFILE_BASE + profile_id
    for patient in ground_truth.patients(served.sample_size):
        series = [r for r in ground_truth.for_patient("Observation", "subject", patient["id"])
                  if url in (r.get("meta") or {}).get("profile", [])]
        if len(series) < 2:
            continue
        system, code = support.tokens(series[0]["code"])[0]
        query = {"patient": f"Patient/{patient['id']}", "code": support.token_param(system, code), "_sort": "date"}
        got, _, _ = support.search_all(served.client, "Observation", query)
        expected = [r for r in series if support.has_token(r, "code", system, code)]
        support.check_same_ids(f"GET Observation?{query}", got, expected,
                               "Return the whole series of one NEWS2 parameter for a patient.")
        times = [support.date_ranges(r, "effective[x]")[0][0] for r in got if support.date_ranges(r, "effective[x]")]
        if times != sorted(times):
            fail(f"GET Observation?...&_sort=date returned the {profile_id} series out of date order.",
                 "Support _sort=date so an EPJ can draw the trend of each parameter.")
        return
    pytest.skip(f"not applicable: no sampled patient has a series of {profile_id}")


def _vitals(measurements: dict[str, dict]):
    """The NEWS2 inputs from the seven measurement Observations, keyed by profile id."""
    from synthetic_data.news2 import Vitals

    def quantity(profile: str) -> float:
        return measurements[profile]["valueQuantity"]["value"]

    def component(profile: str, code: str) -> dict:
        return next(c for c in measurements[profile].get("component", [])
                    if any(cd.get("code") == code for cd in (c.get("code") or {}).get("coding", [])))

    def coded(profile: str) -> str:
        return measurements[profile]["valueCodeableConcept"]["coding"][0]["code"]

    bp = "sk-news2-blood-pressure"
    return Vitals(respiratory_rate=quantity("sk-news2-respiratory-rate"),
                  spo2=quantity("sk-news2-oxygen-saturation"),
                  spo2_scale=component("sk-news2-oxygen-saturation", "spo2-scale")["valueInteger"],
                  on_oxygen=coded("sk-news2-supplemental-oxygen") == "oxygen",
                  systolic=component(bp, "8480-6")["valueQuantity"]["value"],
                  diastolic=component(bp, "8462-4")["valueQuantity"]["value"],
                  pulse=quantity("sk-news2-heart-rate"),
                  pulse_regular=coded_component_regular(measurements["sk-news2-heart-rate"]),
                  consciousness=coded("sk-news2-consciousness"),
                  temperature=quantity("sk-news2-body-temperature"))


def coded_component_regular(heart_rate: dict) -> bool:
    for c in heart_rate.get("component", []):
        codes = [cd.get("code") for cd in (c.get("valueCodeableConcept") or {}).get("coding", [])]
        if "irregular" in codes:
            return False
    return True


@requirement("SK-N2-004")
def test_news2_component_scores_follow_rcp_rules(served, ground_truth) -> None:
    from synthetic_data.news2 import score as news2_score
    for served_score in _need_scores(served, ground_truth)[:10]:
        measurements: dict[str, dict] = {}
        for ref in served_score.get("derivedFrom", []):
            response = served.read(ground_truth.reference(ref.get("reference", "")))
            if response.status_code == 200:
                body = response.json()
                for profile in (body.get("meta") or {}).get("profile", []):
                    measurements[profile.removeprefix(support.PROFILE_BASE)] = body
        missing = [p for p in MEASUREMENT_PROFILES if p not in measurements]
        if missing:
            fail(f"Observation/{served_score.get('id')} (NEWS2 score) is not derived from a served {missing[0]}.",
                 "Link every NEWS2 score to its seven measurements with derivedFrom.")
        try:
            expected = news2_score(_vitals(measurements)).components
        except (KeyError, StopIteration, TypeError, IndexError) as error:
            fail(f"The measurements of NEWS2 score Observation/{served_score.get('id')} lack a value the "
                 f"score needs ({error!r}).", "Serve every NEWS2 measurement with its value, unit and components.")
        served_parts = {cd.get("code"): c.get("valueInteger") for c in served_score.get("component", [])
                        for cd in (c.get("code") or {}).get("coding", []) if cd.get("system") == NEWS2}
        wrong = {code: (served_parts.get(code), want) for code, want in expected.items()
                 if served_parts.get(code) != want}
        if wrong:
            code, (got, want) = next(iter(wrong.items()))
            fail(f"Observation/{served_score.get('id')} scores {code} as {got}, but its measurements give {want} "
                 "by the RCP NEWS2 rules.",
                 "Compute each NEWS2 component score from the linked measurements by the RCP (2017) bands.")
