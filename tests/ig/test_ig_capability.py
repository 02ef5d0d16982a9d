"""The guide's CapabilityStatement for servers (sk-server): the server role reads what is required
from it, guide.toml adds only element paths, and CONTRACT.md says the same."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import conformance.ig as ig
from conformance.suite.server import support

CONTRACT = Path(ig.__file__).parent / "CONTRACT.md"


def test_the_statement_is_in_the_package_as_requirements():
    statement = support.capability()
    assert statement["kind"] == "requirements" and statement["fhirVersion"] == "4.0.1"
    rest = statement["rest"][0]
    assert rest["mode"] == "server" and rest["security"]["service"][0]["coding"][0]["code"] == "OAuth"
    assert "DPoP" in rest["security"]["description"]


def test_every_profile_of_the_guide_is_supported_by_exactly_one_type():
    profiles = {sd["id"]: sd["type"] for sd in ig.by_type("StructureDefinition").values()
                if sd.get("derivation") == "constraint" and sd["type"] != "Extension"}
    supported = {p: t.name for t in support.types().values() for p in t.profiles}
    assert set(supported) <= set(profiles)
    assert all(profiles[p] == rtype for p, rtype in supported.items())
    assert set(profiles) - set(supported) == {"sk-auditevent"}     # written by the platform, not served data


def test_every_required_parameter_has_a_definition_and_an_element_path():
    rest = support.capability()["rest"][0]
    for resource in rest["resource"]:
        for param in resource["searchParam"]:
            assert param.get("definition", "").startswith(("http://hl7.org/fhir/SearchParameter/",
                                                           "https://sandkasse.no/fhir/SearchParameter/"))
            assert support.expectation(param) in ("SHALL", "SHOULD", "MAY")
    assert sum(len(t.search) for t in support.types().values()) == 34
    dates = [(rtype, p.comparators) for rtype, p in support.params("date")]
    assert dates == [("EpisodeOfCare", ("eq", "ge", "le", "gt", "lt")), ("Observation", ("eq", "ge", "le", "gt", "lt"))]


def test_includes_cover_every_patient_scoped_type():
    specs = support.types()
    scoped = [t.name for t in specs.values() if t.patient]
    assert all(f"{name}:patient" in specs[name].includes for name in scoped)
    assert sorted(specs["Patient"].revincludes) == sorted(f"{name}:patient" for name in scoped)
    assert "Observation:derived-from" in specs["Observation"].includes


def test_contract_lists_the_same_required_parameters():
    table = re.search(r"\| type \| required search parameters \|\n\|---\|---\|\n((?:\|.*\|\n)+)",
                      CONTRACT.read_text(encoding="utf-8")).group(1)
    stated = {}
    for row in table.strip().splitlines():
        names, params = [c.strip() for c in row.strip("|").split("|")]
        for name in names.split(", "):
            stated[name] = [p.strip() for p in params.split(",")]
    assert stated == {t.name: [p.name for p in t.search] for t in support.types().values()}


def test_guide_toml_and_statement_disagreeing_is_refused(monkeypatch):
    broken = {**support.guide(), "paths": {**support.guide()["paths"], "Flag": {}}}
    monkeypatch.setattr(support, "guide", lambda: broken)
    monkeypatch.setattr(support, "types", support.types.__wrapped__)
    with pytest.raises(support.GuideError, match=r"Flag\.patient"):
        support.types()


@pytest.mark.parametrize("url", ["https://sandkasse.no/fhir/CapabilityStatement/sk-server",
                                 "https://sandkasse.no/fhir/SearchParameter/sk-date"])
def test_the_statement_and_its_search_parameter_are_valid_r4(url):
    from conformance.validator import Validator, is_error
    assert [i.message for i in Validator.default().validate(ig.load_package()[url]) if is_error(i)] == []
