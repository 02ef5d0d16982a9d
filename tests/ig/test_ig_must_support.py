"""Must-support flags on the elements the platform exchanges: K1–K9 (Kommunale tjenester) and
N1–N9 (NEWS2) of the information model. The generator's coverage test reads these flags."""
from __future__ import annotations

import pytest

from ig_support import profiles

K_ELEMENTS = {
    "K1 local code and text": ["EpisodeOfCare.type", "EpisodeOfCare.type.coding", "EpisodeOfCare.type.text"],
    "K2 national service type": ["EpisodeOfCare.type.coding:kpr", "EpisodeOfCare.type.coding:kpr.code"],
    "K3 active/inactive": ["EpisodeOfCare.status"],
    "K4 decided hours": ["EpisodeOfCare.extension:vedtakstimer"],
    "K5 start": ["EpisodeOfCare.period", "EpisodeOfCare.period.start"],
    "K6 end": ["EpisodeOfCare.period.end"],
    "K7 review date": ["EpisodeOfCare.extension:revurderingsdato"],
    "K8 free text": ["EpisodeOfCare.extension:vedtakstekst"],
    "K9 decision id and service location": ["EpisodeOfCare.identifier", "EpisodeOfCare.managingOrganization"],
}

MEASUREMENT = ["Observation.status", "Observation.code", "Observation.subject", "Observation.effective[x]",
               "Observation.value[x]"]
N_ELEMENTS = {
    "N1": ("sk-news2-respiratory-rate", MEASUREMENT),
    "N2": ("sk-news2-oxygen-saturation", MEASUREMENT + ["Observation.component:scale"]),
    "N3": ("sk-news2-supplemental-oxygen", MEASUREMENT),
    "N4": ("sk-news2-heart-rate", MEASUREMENT + ["Observation.component:regularity"]),
    "N5": ("sk-news2-blood-pressure", MEASUREMENT[:4] + ["Observation.component:systolic"]),
    "N6": ("sk-news2-consciousness", MEASUREMENT),
    "N7": ("sk-news2-body-temperature", MEASUREMENT),
    "N8": ("sk-news2-score", MEASUREMENT + [f"Observation.component:{s}" for s in (
        "respiratoryRate", "spo2", "airOrOxygen", "systolicBp", "pulse", "consciousness", "temperature")]),
    "N9": ("sk-news2-score", ["Observation.derivedFrom"]),
}


def _must_support(profile_id: str) -> set[str]:
    return {e["id"] for e in profiles()[profile_id]["snapshot"]["element"] if e.get("mustSupport")}


@pytest.mark.parametrize("element", sorted(K_ELEMENTS))
def test_kommunale_tjenester_elements_are_must_support(element):
    missing = set(K_ELEMENTS[element]) - _must_support("sk-kommunal-tjeneste")
    assert not missing, f"{element}: not mustSupport: {sorted(missing)}"


@pytest.mark.parametrize("element", sorted(N_ELEMENTS))
def test_news2_elements_are_must_support(element):
    profile_id, ids = N_ELEMENTS[element]
    missing = set(ids) - _must_support(profile_id)
    assert not missing, f"{element} in {profile_id}: not mustSupport: {sorted(missing)}"


def test_every_profile_marks_what_it_exchanges():
    for profile_id in profiles():
        assert len(_must_support(profile_id)) >= 3, f"{profile_id} marks (almost) nothing mustSupport"


def test_news2_score_needs_its_measurements_and_components():
    elements = {e["id"]: e for e in profiles()["sk-news2-score"]["snapshot"]["element"]}
    assert (elements["Observation.derivedFrom"]["min"], elements["Observation.derivedFrom"]["max"]) == (7, "*")
    assert (elements["Observation.component"]["min"], elements["Observation.component"]["max"]) == (7, "7")
    targets = elements["Observation.derivedFrom"]["type"][0]["targetProfile"]
    assert len(targets) == 7 and all("/sk-news2-" in t for t in targets)
