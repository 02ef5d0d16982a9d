"""The small loader the validator and the reports use: conformance.ig."""
from __future__ import annotations

import json

import conformance.ig as ig


def test_identity_comes_from_the_package_manifest():
    manifest = json.loads((ig.package_dir() / "package.json").read_text(encoding="utf-8"))
    assert (ig.PACKAGE_ID, ig.PACKAGE_VERSION) == (manifest["name"], manifest["version"])
    assert ig.PACKAGE_ID == "sandkasse.fhir.kommune"


def test_load_package_is_keyed_by_canonical_url_and_read_once():
    package = ig.load_package()
    assert package is ig.load_package()
    news2 = package["https://sandkasse.no/fhir/StructureDefinition/sk-news2-score"]
    assert news2["resourceType"] == "StructureDefinition" and news2["snapshot"]["element"]
    assert package["https://sandkasse.no/fhir/CodeSystem/acvpu"]["resourceType"] == "CodeSystem"
    assert all(url == r["url"] for url, r in package.items())


def test_by_type_and_examples():
    assert set(ig.by_type("ValueSet")) <= set(ig.load_package())
    assert {r["resourceType"] for r in ig.by_type("CodeSystem").values()} == {"CodeSystem"}
    assert {e["resourceType"] for e in ig.load_examples()} >= {"Patient", "EpisodeOfCare", "Observation"}


def test_sha256_is_a_stable_content_hash(tmp_path, monkeypatch):
    digest = ig.package_sha256()
    assert len(digest) == 64 and int(digest, 16) >= 0
    # the same bytes in another folder give the same hash; one changed byte gives another
    import shutil
    copy = tmp_path / "package"
    shutil.copytree(ig.package_dir(), copy)
    monkeypatch.setattr(ig, "package_dir", lambda: copy)
    ig.package_sha256.cache_clear()
    try:
        assert ig.package_sha256() == digest
        (copy / "package.json").write_text((copy / "package.json").read_text() + " ", encoding="utf-8")
        ig.package_sha256.cache_clear()
        assert ig.package_sha256() != digest
    finally:
        monkeypatch.undo()
        ig.package_sha256.cache_clear()
