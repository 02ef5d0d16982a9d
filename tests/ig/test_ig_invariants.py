"""The guide's FHIRPath invariants hold on the examples and catch what they are written to catch,
evaluated with fhirpathpy (the platform's engine): each case breaks one rule of an example."""
from __future__ import annotations

import pytest

from ig_support import example, failing_invariants, invariants, profiles, extensions

FNR = "urn:oid:2.16.578.1.12.4.1.4.1"
REVIEW = "https://sandkasse.no/fhir/StructureDefinition/revurderingsdato"


def _news2_total(r):
    r["valueInteger"] = 7          # components sum to 6


def _news2_derived(r):
    r["derivedFrom"] = r["derivedFrom"][:6]


def _news2_range(r):
    for component in r["component"]:  # every component at its maximum, the sum rule kept
        component["valueInteger"] = 3
    r["valueInteger"] = 21


def _component_range(r):
    r["component"][0]["valueInteger"] = 4
    r["valueInteger"] += 2


def _fnr(r):
    r["identifier"][0]["value"] = "1383410683"


def _period(r):
    r["period"]["end"] = "2025-08-31"


def _review(r):
    next(e for e in r["extension"] if e["url"] == REVIEW)["valueDate"] = "2025-08-01"


def _vedtak_system(r):
    r["identifier"][0]["system"] = "https://sandkasse.no/fhir/sid/vedtak/oslo"


def _two_kpr(r):
    r["type"][0]["coding"].append(dict(r["type"][0]["coding"][0], code="11"))


def _spo2_scale(r):
    r["component"][0]["valueInteger"] = 3


def _iplos(r):
    r["valueInteger"] = 7


def _kommunenummer(r):
    r["address"][0]["_district"]["extension"][0]["valueCoding"]["code"] = "301"


def _problemomrade(r):
    r["category"] = [{"text": "Ernæring"}]


def _sperring(r):
    r["provision"] = {"type": "deny"}


def _condition(r):
    r["code"] = {"coding": [{"system": "urn:oid:2.16.578.1.12.4.1.1.7170", "code": "X"}]}


def _orgnr(r):
    r["identifier"][0]["value"] = "31090000"


def _hpr(r):
    r["identifier"][0]["value"] = "99x"


def _negative_hours(r):
    r["extension"][0]["valueQuantity"]["value"] = -1


CASES = [
    ("news2-score", _news2_total, "sk-news2-total-sum"),
    ("news2-score", _news2_derived, "sk-news2-derived-from"),
    ("news2-score", _news2_range, "sk-news2-total-range"),
    ("news2-score", _component_range, "sk-news2-component-range"),
    ("kari-nordmann", _fnr, "sk-fnr-format"),
    ("kari-nordmann", _kommunenummer, "sk-kommunenummer-format"),
    ("vedtak-hjemmesykepleie", _period, "sk-period-order"),
    ("vedtak-hjemmesykepleie", _review, "sk-vedtak-review-after-start"),
    ("vedtak-hjemmesykepleie", _vedtak_system, "sk-vedtak-identifier"),
    ("vedtak-hjemmesykepleie", _two_kpr, "sk-kpr-coding"),
    ("vedtak-hjemmesykepleie", _negative_hours, "sk-nonnegative-quantity"),
    ("news2-spo2", _spo2_scale, "sk-spo2-scale"),
    ("iplos-personlig-hygiene", _iplos, "sk-iplos-score"),
    ("pleieplan-ernaering", _problemomrade, "sk-careplan-problemomrade"),
    ("sperring-lege-berg", _sperring, "sk-sperring-actor-or-class"),
    ("hjertesvikt", _condition, "sk-condition-code-system"),
    ("oslo-kommune", _orgnr, "sk-orgnr-format"),
    ("sykepleier-hansen", _hpr, "sk-hpr-format"),
]


@pytest.mark.parametrize("example_id, breaks, rule", CASES, ids=[c[2] for c in CASES])
def test_invariant_catches_its_violation(example_id, breaks, rule):
    resource = example(example_id)
    assert failing_invariants(resource) == set()
    breaks(resource)
    assert failing_invariants(resource) == {rule}


def test_every_invariant_of_the_guide_is_exercised_or_structural():
    keys = {k for sd in [*profiles().values(), *extensions().values()] for k, _, _ in invariants(sd)}
    exercised = {rule for _, _, rule in CASES}
    # the format rules for D-nummer, FH-nummer and HER-id and the vital-sign value rule share
    # their shape with exercised ones
    assert keys - exercised <= {"sk-dnr-format", "sk-fhn-format", "sk-her-format", "sk-vital-value-or-absent"}


def test_invariants_avoid_what_fhirpathpy_lacks():
    for sd in [*profiles().values(), *extensions().values()]:
        for key, _, expression in invariants(sd):
            for missing in ("hasValue(", "resolve(", "conformsTo(", "memberOf(", "htmlChecks", "getValue("):
                assert missing not in expression, f"{key} uses {missing}"
