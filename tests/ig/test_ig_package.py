"""The committed package is a well-formed FHIR R4 package that says what CONTRACT.md says."""
from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest
import yaml

import conformance.ig as ig
from ig_support import SD, example, extensions, failing_invariants, profiles

IG_DIR = Path(ig.__file__).parent
CANONICAL = "https://sandkasse.no/fhir"
# External and core namespaces a binding or a value set may point into without shipping it.
CORE_PREFIXES = ("http://hl7.org/fhir/ValueSet/", "http://terminology.hl7.org/ValueSet/")
EXTERNAL_SYSTEMS_NOT_SHIPPED = ("http://terminology.hl7.org/CodeSystem/", "http://hl7.org/fhir/",
                                "urn:ietf:bcp:47", "urn:oid:")


def _package_files() -> dict[str, bytes]:
    root = ig.package_dir()
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_manifest_matches_sushi_config():
    config = yaml.safe_load((IG_DIR / "sushi-config.yaml").read_text(encoding="utf-8"))
    manifest = json.loads((ig.package_dir() / "package.json").read_text(encoding="utf-8"))
    assert manifest["name"] == config["id"] == "sandkasse.fhir.kommune"
    assert manifest["version"] == str(config["version"])
    assert manifest["canonical"] == config["canonical"] == CANONICAL
    assert manifest["fhirVersions"] == ["4.0.1"]
    assert manifest["dependencies"] == {"hl7.fhir.r4.core": "4.0.1"}


@pytest.mark.parametrize("folder", ["", "example/"])
def test_index_lists_exactly_the_files_of_its_folder(folder):
    root = ig.package_dir() / folder
    index = json.loads((root / ".index.json").read_text(encoding="utf-8"))
    listed = [row["filename"] for row in index["files"]]
    present = sorted(p.name for p in root.glob("*.json") if p.name not in ("package.json", ".index.json"))
    assert sorted(listed) == present
    for row in index["files"]:
        resource = json.loads((root / row["filename"]).read_text(encoding="utf-8"))
        assert (row["resourceType"], row["id"]) == (resource["resourceType"], resource["id"])
        assert row.get("url") == resource.get("url")


def test_tgz_is_the_package_folder_in_npm_layout():
    with tarfile.open(IG_DIR / "package.tgz", "r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    assert all(name.startswith("package/") for name in members)
    assert {name.removeprefix("package/"): data for name, data in members.items()} == _package_files()


def test_every_structure_definition_has_a_snapshot_and_its_canonical_url():
    for url, sd in ig.by_type("StructureDefinition").items():
        assert url == f"{CANONICAL}/StructureDefinition/{sd['id']}" or sd["id"] == "no-basis-municipalitycode"
        assert sd["fhirVersion"] == "4.0.1" and sd["derivation"] == "constraint"
        assert sd["snapshot"]["element"], f"{sd['id']} has no snapshot"
        assert sd["snapshot"]["element"][0]["path"] == sd["type"]
        assert sd["differential"]["element"], f"{sd['id']} has no differential"
        assert sd["baseDefinition"] == f"http://hl7.org/fhir/StructureDefinition/{sd['type']}"


def _contract_profiles() -> dict[str, str]:
    text = (IG_DIR / "CONTRACT.md").read_text(encoding="utf-8")
    section = text.split("## Profiles", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `(sk-[a-z0-9-]+)` \| (\w+) \|", section, re.M))


def test_contract_and_package_list_the_same_profiles():
    contract = _contract_profiles()
    assert len(contract) >= 25
    assert {pid: sd["type"] for pid, sd in profiles().items()} == contract


def test_the_no_basis_municipality_extension_keeps_hl7_norways_url():
    ext = extensions()["http://hl7.no/fhir/StructureDefinition/no-basis-municipalitycode"]
    assert ext["context"] == [{"type": "element", "expression": "Address.district"}]
    for url in (f"{SD}vedtakstimer", f"{SD}revurderingsdato", f"{SD}vedtakstekst"):
        assert extensions()[url]["context"] == [{"type": "element", "expression": "EpisodeOfCare"}]


def _bindings():
    for sd in ig.by_type("StructureDefinition").values():
        for element in sd["snapshot"]["element"]:
            if "valueSet" in element.get("binding", {}):
                yield sd["id"], element["id"], element["binding"]


def test_every_binding_resolves_in_the_package_or_the_core():
    package = ig.load_package()
    for sd_id, element_id, binding in _bindings():
        url = binding["valueSet"].split("|")[0]
        assert url in package or url.startswith(CORE_PREFIXES), f"{sd_id} {element_id}: {url} is nowhere"


@pytest.mark.parametrize("sd_id, element_id, value_set", [
    ("sk-kommunal-tjeneste", "EpisodeOfCare.type.coding:kpr", "kpr-tjenestetype"),
    ("sk-news2-consciousness", "Observation.value[x]", "acvpu"),
    ("sk-news2-supplemental-oxygen", "Observation.value[x]", "air-or-oxygen"),
    ("sk-news2-heart-rate", "Observation.component:regularity.value[x]", "pulse-regularity"),
    ("sk-news2-score", "Observation.component.code", "news2-component-code"),
    ("sk-functional-assessment", "Observation.code", "iplos-funksjon"),
    ("no-basis-municipalitycode", "Extension.value[x]", "kommunenummer"),
])
def test_sandbox_terminology_is_bound_required(sd_id, element_id, value_set):
    found = {(s, e): b for s, e, b in _bindings()}
    binding = found[(sd_id, element_id)]
    assert binding["strength"] == "required"
    assert binding["valueSet"].split("|")[0] == f"{CANONICAL}/ValueSet/{value_set}"


def test_code_systems_are_complete_for_the_sandbox_and_fragments_for_external_ones():
    for url, cs in ig.by_type("CodeSystem").items():
        codes = [c["code"] for c in cs["concept"]]
        assert len(codes) == len(set(codes)) == cs.get("count", len(codes)), url
        expected = "complete" if url.startswith(CANONICAL) or "kommunenummer" in url else "fragment"
        assert cs["content"] == expected, url
    kommuner = ig.load_package()["https://register.geonorge.no/subregister/sosi-kodelister/kartverket/kommunenummer-alle"]
    assert kommuner["count"] == 357 and all(re.fullmatch(r"\d{4}", c["code"]) for c in kommuner["concept"])


def test_value_sets_draw_only_on_known_code_systems_and_codes():
    systems = {url: {c["code"] for c in cs["concept"]} for url, cs in ig.by_type("CodeSystem").items()}
    for url, vs in ig.by_type("ValueSet").items():
        for include in vs["compose"]["include"]:
            system = include["system"]
            assert system in systems or system.startswith(EXTERNAL_SYSTEMS_NOT_SHIPPED), f"{url}: {system}"
            for concept in include.get("concept", []):
                if system in systems:
                    assert concept["code"] in systems[system], f"{url}: {system}#{concept['code']}"


def test_every_profile_has_an_example_that_names_it():
    examples = ig.load_examples()
    claimed = {e["meta"]["profile"][0] for e in examples}
    assert claimed == {sd["url"] for sd in profiles().values()}
    for e in examples:
        sd = profiles()[e["meta"]["profile"][0].removeprefix(SD)]
        assert e["resourceType"] == sd["type"]
    assert len({(e["resourceType"], e["id"]) for e in examples}) == len(examples)


def _codings(node):
    if isinstance(node, dict):
        if "system" in node and "code" in node and isinstance(node["code"], str):
            yield node["system"], node["code"]
        for value in node.values():
            yield from _codings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _codings(value)


def test_examples_use_only_codes_their_code_systems_define():
    systems = {url: {c["code"] for c in cs["concept"]} for url, cs in ig.by_type("CodeSystem").items()}
    for e in ig.load_examples():
        for system, code in _codings(e):
            if system in systems:
                assert code in systems[system], f"{e['id']}: {system}#{code} is not in the code system"


def _required_top_level(sd: dict) -> list[str]:
    """Names of the resource's own elements that the profile makes required (min >= 1)."""
    out = []
    for element in sd["snapshot"]["element"]:
        parts = element["id"].split(".")
        if len(parts) == 2 and ":" not in element["id"] and element.get("min", 0) >= 1:
            out.append(parts[1])
    return out


def test_examples_carry_every_required_element_and_keep_every_invariant():
    for e in ig.load_examples():
        sd = profiles()[e["meta"]["profile"][0].removeprefix(SD)]
        for name in _required_top_level(sd):
            if name.endswith("[x]"):
                assert any(k.startswith(name[:-3]) for k in e), f"{e['id']}: no {name}"
            else:
                assert name in e, f"{e['id']}: {sd['id']} requires {name}"
        assert failing_invariants(e) == set(), e["id"]


def test_news2_score_example_is_derived_from_the_seven_measurement_examples():
    score = example("news2-score")
    measured = {f"Observation/{e['id']}": e["meta"]["profile"][0] for e in ig.load_examples()
                if e["meta"]["profile"][0].startswith(f"{SD}sk-news2-") and e["id"] != "news2-score"}
    assert {d["reference"] for d in score["derivedFrom"]} == set(measured)
    assert len(set(measured.values())) == 7


def test_examples_pass_the_platforms_validator():
    """The validator the intake uses, compiled from this package, finds no error in any example."""
    from conformance.validator import Validator, is_error
    validator = Validator.default()
    errors = {e["id"]: [f"{i.expression}: {i.message}" for i in validator.validate(e) if is_error(i)]
              for e in ig.load_examples()}
    assert {k: v for k, v in errors.items() if v} == {}
