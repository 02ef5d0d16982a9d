"""Turn SUSHI's output into the committed FHIR package, deterministically.

Writes OUT/package/ (conformance resources at the top, instances under example/, each folder with
its .index.json, plus package.json) and OUT/package.tgz (the standard npm layout, package/...).
Output is byte-stable for the same sources: sorted keys, two-space indent, no timestamps (SUSHI's
`date` is dropped), tar entries sorted with mtime 0 and no owner, gzip header without a time.
Usage: pack.py SUSHI_RESOURCES_DIR SUSHI_CONFIG OUT_DIR
"""
from __future__ import annotations

import gzip
import io
import json
import shutil
import sys
import tarfile
from pathlib import Path

import yaml

CONFORMANCE_TYPES = {"StructureDefinition", "CodeSystem", "ValueSet", "CapabilityStatement",
                     "SearchParameter", "OperationDefinition", "ConceptMap", "NamingSystem",
                     "ImplementationGuide"}
INDEX_KEYS = ("url", "version", "kind", "type", "supplements", "content")
VOLATILE_KEYS = ("date",)  # SUSHI may stamp these; a rebuild must not change the package
KEEP_DATE = {"CapabilityStatement"}   # date is 1..1 there; the FSH fixes it, so it is stable


def dumps(resource: dict) -> str:
    return json.dumps(resource, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def normalise(resource: dict) -> dict:
    keep = {"date"} if resource.get("resourceType") in KEEP_DATE else set()
    return {k: v for k, v in resource.items() if k not in VOLATILE_KEYS or k in keep}


def index_row(filename: str, resource: dict) -> dict:
    row = {"filename": filename, "resourceType": resource["resourceType"], "id": resource["id"]}
    row.update({k: resource[k] for k in INDEX_KEYS if isinstance(resource.get(k), str)})
    if resource["resourceType"] != "StructureDefinition":
        row.pop("type", None)
        row.pop("kind", None)
    for profile in resource.get("meta", {}).get("profile", [])[:1]:
        row["profile"] = profile  # which profile an example claims, for tools and tests
    return row


def package_json(config: dict) -> dict:
    return {
        "name": config["id"],
        "version": str(config["version"]),
        "canonical": config["canonical"],
        "url": config["canonical"],
        "title": config.get("title", config["id"]),
        "description": " ".join(str(config.get("description", "")).split()),
        "fhirVersions": [config["fhirVersion"]],
        "dependencies": {"hl7.fhir.r4.core": "4.0.1"},
        "author": config.get("publisher", {}).get("name", "sandkasse"),
        "license": config.get("license", "CC0-1.0"),
        "jurisdiction": "urn:iso:std:iso:3166#NO",
        "type": "IG",
    }


def build(resources: Path, config_path: Path, out: Path) -> Path:
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    files: dict[str, str] = {}  # path inside package/ -> text
    indexes: dict[str, list[dict]] = {"": [], "example/": []}
    for path in sorted(resources.glob("*.json")):
        resource = normalise(json.loads(path.read_text(encoding="utf-8")))
        folder = "" if resource["resourceType"] in CONFORMANCE_TYPES else "example/"
        filename = f"{resource['resourceType']}-{resource['id']}.json"
        files[folder + filename] = dumps(resource)
        indexes[folder].append(index_row(filename, resource))
    for folder, rows in indexes.items():
        rows.sort(key=lambda r: r["filename"])
        files[folder + ".index.json"] = dumps({"index-version": 1, "files": rows})
    files["package.json"] = dumps(package_json(config))

    target = out / "package"
    if target.exists():
        shutil.rmtree(target)
    for name, text in files.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text, encoding="utf-8")
    write_tgz(files, out / "package.tgz")
    return target


def write_tgz(files: dict[str, str], path: Path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            data = files[name].encode("utf-8")
            info = tarfile.TarInfo(f"package/{name}")
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    with open(path, "wb") as handle, gzip.GzipFile(filename="", mode="wb", fileobj=handle,
                                                   mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())


if __name__ == "__main__":
    folder = build(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
    print(f"wrote {folder} and {folder.parent / 'package.tgz'}")
