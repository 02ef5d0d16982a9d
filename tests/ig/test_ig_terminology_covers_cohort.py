"""The guide's terminology covers what the generator produces: every resource of a small cohort
names a profile of the guide, and every code from a sandbox code system (complete content) or a
shipped fragment is one the guide defines. This is the contract between conformance/ig and
synthetic_data, checked from both sides' real output."""
from __future__ import annotations

from collections import Counter

import pytest

import conformance.ig as ig
from ig_support import failing_invariants
from synthetic_data import generate_patient


def _codings(node):
    if isinstance(node, dict):
        if isinstance(node.get("system"), str) and isinstance(node.get("code"), str):
            yield node["system"], node["code"]
        for value in node.values():
            yield from _codings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _codings(value)


@pytest.fixture(scope="module")
def cohort_resources() -> list[dict]:
    out: list[dict] = []
    for index in range(25):
        out.extend(generate_patient(3, index).resources)
    return out


def test_every_generated_resource_names_a_profile_of_the_guide(cohort_resources):
    profiles = set(ig.by_type("StructureDefinition"))
    named = Counter(r.get("meta", {}).get("profile", [None])[0] for r in cohort_resources)
    assert set(named) <= profiles, f"profiles not in the guide: {set(named) - profiles}"


def test_every_generated_code_is_defined_where_the_guide_ships_the_code_system(cohort_resources):
    systems = {url: {c["code"] for c in cs["concept"]} for url, cs in ig.by_type("CodeSystem").items()}
    unknown = Counter((system, code) for r in cohort_resources for system, code in _codings(r)
                      if system in systems and code not in systems[system])
    assert not unknown, f"codes the guide does not define: {sorted(unknown)[:20]}"


def test_generated_resources_keep_the_guides_invariants(cohort_resources):
    broken = Counter((r["meta"]["profile"][0].rsplit("/", 1)[1], key)
                     for r in cohort_resources for key in failing_invariants(r))
    assert not broken, f"generated resources break invariants: {dict(broken)}"
