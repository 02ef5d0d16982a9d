"""The small loader the validator and the reports use: conformance.ig."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

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


def test_sha256_is_a_stable_content_hash_whether_read_from_folder_or_tgz(tmp_path, monkeypatch):
    digest = ig.package_sha256()
    assert len(digest) == 64 and int(digest, 16) >= 0
    examples = ig.load_examples()

    def reload(folder):
        monkeypatch.setattr(ig, "package_dir", lambda: folder)
        for cached in (ig._files, ig.package_sha256, ig.load_examples, ig.load_package):
            cached.cache_clear()

    try:
        # no unpacked folder (as in an installed wheel): the same files come from package.tgz
        reload(tmp_path / "absent")
        assert ig.package_sha256() == digest
        assert ig.load_examples() == examples
        # the same bytes in another folder give the same hash; one changed byte gives another
        copy = tmp_path / "package"
        shutil.copytree(Path(ig.__file__).parent / "package", copy)
        reload(copy)
        assert ig.package_sha256() == digest
        (copy / "package.json").write_text((copy / "package.json").read_text() + " ", encoding="utf-8")
        reload(copy)
        assert ig.package_sha256() != digest
    finally:
        monkeypatch.undo()
        for cached in (ig._files, ig.package_sha256, ig.load_examples, ig.load_package):
            cached.cache_clear()
