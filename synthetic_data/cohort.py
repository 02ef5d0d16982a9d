"""A cohort: many synthetic patients, written as transaction Bundles and NDJSON with a manifest."""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from synthetic_data.generator import GENERATOR_VERSION, SyntheticPatient, generate_patient


@dataclass(frozen=True)
class CohortSpec:
    size: int
    seed: int = 42
    kommunenummer: str = "0301"


@dataclass
class Manifest:
    seed: int
    size: int
    kommunenummer: str
    generator_version: str
    counts: dict[str, int]
    content_sha256: str
    files: dict[str, str]


def iter_patients(spec: CohortSpec) -> Iterator[SyntheticPatient]:
    for index in range(spec.size):
        yield generate_patient(spec.seed, index, spec.kommunenummer)


def transaction_bundle(patient: SyntheticPatient) -> dict:
    """A FHIR transaction that creates (PUT by id) every resource of one patient."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{
            "fullUrl": f"urn:uuid:{r['id']}",
            "resource": r,
            "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
        } for r in patient.resources],
    }


def _line(resource: dict) -> str:
    return json.dumps(resource, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def write_cohort(spec: CohortSpec, out: Path) -> Manifest:
    """Stream the cohort to `out`: NDJSON per resource type plus bundles.ndjson, then manifest.json."""
    out.mkdir(parents=True, exist_ok=True)
    handles: dict[str, object] = {}
    counts: Counter[str] = Counter()
    content = hashlib.sha256()
    try:
        bundles = (out / "bundles.ndjson").open("w", encoding="utf-8")
        handles["_bundles"] = bundles
        for patient in iter_patients(spec):
            bundles.write(_line(transaction_bundle(patient)) + "\n")
            for resource in patient.resources:
                rtype = resource["resourceType"]
                if rtype not in handles:
                    handles[rtype] = (out / f"{rtype}.ndjson").open("w", encoding="utf-8")
                line = _line(resource)
                handles[rtype].write(line + "\n")
                content.update(line.encode())
                counts[rtype] += 1
    finally:
        for handle in handles.values():
            handle.close()
    manifest = Manifest(seed=spec.seed, size=spec.size, kommunenummer=spec.kommunenummer,
                        generator_version=GENERATOR_VERSION, counts=dict(sorted(counts.items())),
                        content_sha256=content.hexdigest(),
                        files={t: f"{t}.ndjson" for t in sorted(counts)} | {"bundles": "bundles.ndjson"})
    (out / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    return manifest
