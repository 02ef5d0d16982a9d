"""Must-support presence is read from the guide's package and finds slices and extensions."""
from __future__ import annotations

import copy

from conformance.suite.server import must_support, support
from synthetic_data import CohortSpec, iter_patients

URL = support.PROFILE_BASE + "sk-kommunal-tjeneste"
WITHHELD = frozenset(support.guide()["minimised_extensions"])


def _vedtak_with_hours() -> dict:
    for patient in iter_patients(CohortSpec(size=40, seed=3)):
        for resource in patient.resources:
            if resource["resourceType"] == "EpisodeOfCare" and any(
                    e["url"].endswith("/vedtakstimer") for e in resource.get("extension", [])):
                return resource
    raise AssertionError("the cohort has no vedtak with decided hours")


def test_extension_and_coding_slices_are_found_and_missed() -> None:
    structure = must_support.profile(URL)
    assert structure is not None, "the guide package has no sk-kommunal-tjeneste"
    ids = [e["id"] for e in must_support.must_support_paths(structure, WITHHELD)]
    assert "EpisodeOfCare.extension:vedtakstimer" in ids and "EpisodeOfCare.type.coding:kpr" in ids
    assert not any("vedtakstekst" in i for i in ids)        # withheld by default, so not demanded
    vedtak = _vedtak_with_hours()
    assert must_support.present(vedtak, structure, "EpisodeOfCare.extension:vedtakstimer")
    assert must_support.present(vedtak, structure, "EpisodeOfCare.type.coding:kpr")
    stripped = copy.deepcopy(vedtak)
    stripped["extension"] = [e for e in stripped["extension"] if not e["url"].endswith("/vedtakstimer")]
    stripped["type"][0]["coding"] = [c for c in stripped["type"][0]["coding"] if "kpr" not in c["system"]]
    assert not must_support.present(stripped, structure, "EpisodeOfCare.extension:vedtakstimer")
    assert not must_support.present(stripped, structure, "EpisodeOfCare.type.coding:kpr")
    assert must_support.present(stripped, structure, "EpisodeOfCare.period.start")
