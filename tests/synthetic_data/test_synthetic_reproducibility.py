"""Byte-identical output for the same seed and version, whatever the size; a different seed differs."""
import json
from pathlib import Path

from synthetic_data import CohortSpec, generate_patient, write_cohort


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    spec = CohortSpec(size=30, seed=11, personas=("kari", "odd"))
    first = write_cohort(spec, tmp_path / "a")
    second = write_cohort(spec, tmp_path / "b")
    assert first.content_sha256 == second.content_sha256
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_patient_n_is_the_same_in_a_small_and_a_large_cohort(tmp_path: Path) -> None:
    write_cohort(CohortSpec(size=10, seed=5), tmp_path / "small")
    write_cohort(CohortSpec(size=100, seed=5), tmp_path / "large")
    small = (tmp_path / "small" / "bundles.ndjson").read_text(encoding="utf-8").splitlines()
    large = (tmp_path / "large" / "bundles.ndjson").read_text(encoding="utf-8").splitlines()
    assert len(small) == 11 and len(large) == 101  # line 1 is the shared Bundle
    assert small == large[:11]
    for rtype in ("Patient", "Observation", "EpisodeOfCare"):
        s = (tmp_path / "small" / f"{rtype}.ndjson").read_text(encoding="utf-8")
        assert (tmp_path / "large" / f"{rtype}.ndjson").read_text(encoding="utf-8").startswith(s)


def test_patient_n_does_not_depend_on_generation_order() -> None:
    forwards = [generate_patient(3, i).resources for i in range(5)]
    backwards = [generate_patient(3, i).resources for i in reversed(range(5))][::-1]
    assert json.dumps(forwards) == json.dumps(backwards)


def test_a_different_seed_gives_a_different_cohort(tmp_path: Path) -> None:
    a = write_cohort(CohortSpec(size=20, seed=1), tmp_path / "a")
    b = write_cohort(CohortSpec(size=20, seed=2), tmp_path / "b")
    assert a.content_sha256 != b.content_sha256
    ids_a = {json.loads(line)["id"] for line in (tmp_path / "a" / "Patient.ndjson").open()}
    ids_b = {json.loads(line)["id"] for line in (tmp_path / "b" / "Patient.ndjson").open()}
    assert not ids_a & ids_b


def test_manifest_is_the_ground_truth(tmp_path: Path) -> None:
    manifest = write_cohort(CohortSpec(size=15, seed=8, personas=("petter",)), tmp_path)
    data = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    for key in ("files", "seed", "size", "counts", "content_sha256", "generator_version"):
        assert key in data
    assert data["seed"] == 8 and data["size"] == 15 and data["files"]["bundles"] == "bundles.ndjson"
    for rtype, name in data["files"].items():
        lines = (tmp_path / name).read_text(encoding="utf-8").splitlines()
        if rtype != "bundles":
            assert len(lines) == data["counts"][rtype]
    assert data["counts"]["Patient"] == 15
    assert data["personas"]["petter"] == manifest.personas["petter"]
    patients = [json.loads(line) for line in (tmp_path / "Patient.ndjson").open()]
    assert patients[0]["id"] == data["personas"]["petter"] and patients[0]["name"][0]["given"] == ["Petter"]
    # the content hash covers every NDJSON line, in the order written
    import hashlib
    bundles = [json.loads(line) for line in (tmp_path / "bundles.ndjson").open()]
    digest = hashlib.sha256()
    for bundle in bundles:
        for entry in bundle["entry"]:
            digest.update((json.dumps(entry["resource"], ensure_ascii=False, separators=(",", ":")) + "\n").encode())
    assert digest.hexdigest() == data["content_sha256"]


def test_ndjson_only_and_bundles_only_formats(tmp_path: Path) -> None:
    nd = write_cohort(CohortSpec(size=5, seed=1, format="ndjson"), tmp_path / "nd")
    bu = write_cohort(CohortSpec(size=5, seed=1, format="bundles"), tmp_path / "bu")
    assert not (tmp_path / "nd" / "bundles.ndjson").exists() and "bundles" not in nd.files
    assert set(bu.files) == {"bundles"} and not (tmp_path / "bu" / "Patient.ndjson").exists()
    assert nd.content_sha256 == bu.content_sha256  # same content, whichever files carry it


def test_every_available_json_encoder_writes_the_same_bytes(default_cohort) -> None:
    """The writer uses orjson when installed, else the standard library: the bytes must not differ."""
    from synthetic_data import cohort
    encoders = {"json": cohort.json_line, "writer": cohort._line,
                "dumps": lambda r: json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode()}
    try:
        import orjson
        encoders["orjson"] = orjson.dumps
    except ImportError:
        pass
    for patient in default_cohort[:300]:
        for resource in patient.resources:
            lines = {name: encode(resource) for name, encode in encoders.items()}
            assert len(set(lines.values())) == 1, resource["id"]
