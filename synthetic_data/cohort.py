"""A cohort: many synthetic patients, written as transaction Bundles and NDJSON with a manifest.

Output is streamed: one patient at a time is generated, serialised once per resource and written,
so memory stays flat however large the cohort. The same spec and generator version give
byte-identical files; the manifest's content hash covers every NDJSON line in order.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

from synthetic_data import clinical, registries
from synthetic_data.generator import (GENERATOR_VERSION, Population, SyntheticPatient, generate_patient,
                                      generate_persona)
from synthetic_data.shared import municipality

FORMATS = ("both", "ndjson", "bundles")


@dataclass(frozen=True)
class CohortSpec:
    size: int
    seed: int = 42
    kommunenummer: str = "0301"
    age_distribution: str = "kommunal"
    prevalence: tuple[tuple[str, float], ...] = ()   # (condition key, rate) overrides
    personas: tuple[str, ...] = ()                   # persona keys, written first; "all" for every one
    format: str = "both"                             # both | ndjson | bundles
    historic_addresses: bool = False                 # also old addresses with pre-2024 kommunenummer

    def population(self) -> Population:
        return Population.parse(self.age_distribution, self.prevalence, self.historic_addresses)

    def persona_keys(self) -> tuple[str, ...]:
        known = tuple(clinical.personas())
        keys = known if "all" in self.personas else self.personas
        unknown = [k for k in keys if k not in known]
        if unknown:
            raise ValueError(f"unknown persona {', '.join(unknown)}; known: {', '.join(known)}")
        return tuple(dict.fromkeys(keys))

    def validate(self) -> None:
        """Raise ValueError with a clear message for any bad option."""
        if self.size < 0:
            raise ValueError("size must be 0 or more")
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {self.format!r}")
        try:
            k = registries.kommune(self.kommunenummer)
        except KeyError as error:
            raise ValueError(str(error.args[0])) from None
        if k.nummer != self.kommunenummer:
            raise ValueError(f"{self.kommunenummer} was replaced by {k.nummer} ({k.navn}) on 1 January 2024; "
                             "generate cohorts for 2024 kommunenummer")
        if not registries.poststeder(self.kommunenummer):
            raise ValueError(f"no postcodes for kommune {self.kommunenummer} in the registry")
        self.population()
        keys = self.persona_keys()
        if len(keys) > self.size:
            raise ValueError(f"{len(keys)} personas do not fit in a cohort of {self.size} patients")


@dataclass
class Manifest:
    seed: int
    size: int
    kommunenummer: str
    generator_version: str
    counts: dict[str, int]
    content_sha256: str
    files: dict[str, str]
    personas: dict[str, str] = field(default_factory=dict)   # persona key → Patient id
    shared: dict[str, int] = field(default_factory=dict)     # shared resource counts (Organization, ...)
    spec: dict = field(default_factory=dict)


def iter_patients(spec: CohortSpec) -> Iterator[SyntheticPatient]:
    """Personas first, then random patients 0, 1, 2, ...: random patient N never depends on the size."""
    personas = spec.persona_keys()
    for key in personas:
        yield generate_persona(spec.seed, key, spec.kommunenummer)
    population = spec.population()
    for index in range(spec.size - len(personas)):
        yield generate_patient(spec.seed, index, spec.kommunenummer, population)


def shared_resources(spec: CohortSpec) -> list[dict]:
    """The kommune's organisations, practitioners and roles every patient may reference."""
    return municipality(spec.seed, spec.kommunenummer).resources


# One encoder, built once: compact, UTF-8 kept as is, no circularity check (resources are trees).
_json_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def json_line(resource: dict) -> bytes:
    """A resource as one compact UTF-8 JSON line (without the newline), with the standard library."""
    return _json_encode(resource).encode()


try:  # orjson writes the very same bytes, about three times faster; optional (tests prove the bytes equal)
    from orjson import dumps as _line
except ImportError:  # pragma: no cover - depends on the environment
    _line = json_line


def _bundle_line(resources: list[dict], lines: list[bytes]) -> bytes:
    """A transaction Bundle from already serialised resources: each resource is encoded once."""
    parts = [b'{"resourceType":"Bundle","type":"transaction","entry":[']
    for n, (r, line) in enumerate(zip(resources, lines)):
        rid, rtype = r["id"], r["resourceType"]
        parts.append(f'{"," if n else ""}{{"fullUrl":"urn:uuid:{rid}","resource":'.encode())
        parts.append(line)
        parts.append(f',"request":{{"method":"PUT","url":"{rtype}/{rid}"}}}}'.encode())
    parts.append(b"]}")
    return b"".join(parts)


def transaction_bundle(patient: SyntheticPatient | list[dict]) -> dict:
    """A FHIR transaction that creates (PUT by id) every resource of one patient (or a list)."""
    resources = patient.resources if isinstance(patient, SyntheticPatient) else patient
    return json.loads(_bundle_line(resources, [_line(r) for r in resources]))


class _Writer:
    """Buffers lines per resource type and writes them in chunks; hashes each patient's lines once."""

    _FLUSH_EVERY = 256  # patients

    def __init__(self, out: Path, fmt: str) -> None:
        self.out, self.fmt = out, fmt
        self.handles: dict[str, IO[bytes]] = {}
        self.pending: dict[str, list[bytes]] = {}
        self.bundle_lines: list[bytes] = []
        self.counts: Counter[str] = Counter()
        self.content = hashlib.sha256()
        self.written = 0
        self.bundles = (out / "bundles.ndjson").open("wb") if fmt in ("both", "bundles") else None

    def write(self, resources: list[dict]) -> None:
        lines = [_line(r) for r in resources]
        if self.bundles is not None:
            self.bundle_lines.append(_bundle_line(resources, lines))
        pending, counts = self.pending, self.counts
        for resource, line in zip(resources, lines):
            rtype = resource["resourceType"]
            bucket = pending.get(rtype)
            if bucket is None:
                bucket = pending[rtype] = []
            bucket.append(line)
            counts[rtype] += 1
        lines.append(b"")
        self.content.update(b"\n".join(lines))  # every line, each followed by a newline
        lines.pop()
        self.written += 1
        if self.written % self._FLUSH_EVERY == 0:
            self.flush()

    def flush(self) -> None:
        if self.bundles is not None and self.bundle_lines:
            self.bundles.write(b"\n".join(self.bundle_lines) + b"\n")
            self.bundle_lines.clear()
        for rtype, bucket in self.pending.items():
            if not bucket:
                continue
            if self.fmt != "bundles":
                handle = self.handles.get(rtype)
                if handle is None:
                    handle = self.handles[rtype] = (self.out / f"{rtype}.ndjson").open("wb")
                handle.write(b"\n".join(bucket) + b"\n")
            bucket.clear()

    def close(self) -> None:
        self.flush()
        for handle in self.handles.values():
            handle.close()
        if self.bundles is not None:
            self.bundles.close()


def write_cohort(spec: CohortSpec, out: Path,
                 progress: Callable[[int, int], None] | None = None) -> Manifest:
    """Stream the cohort to `out`: NDJSON per resource type and/or bundles.ndjson (line 1 is the
    shared transaction Bundle of organisations and practitioners, then one per patient), then
    manifest.json. `progress(done, total)` is called now and then for long runs."""
    spec.validate()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    writer = _Writer(out, spec.format)
    personas: dict[str, str] = {}
    try:
        shared = shared_resources(spec)
        writer.write(shared)
        shared_counts = dict(sorted(Counter(r["resourceType"] for r in shared).items()))
        for done, patient in enumerate(iter_patients(spec), start=1):
            writer.write(patient.resources)
            if patient.persona:
                personas[patient.persona] = patient.patient["id"]
            if progress is not None and (done % 1000 == 0 or done == spec.size):
                progress(done, spec.size)
    finally:
        writer.close()
    files = {} if spec.format == "bundles" else {t: f"{t}.ndjson" for t in sorted(writer.counts)}
    if spec.format != "ndjson":
        files["bundles"] = "bundles.ndjson"
    manifest = Manifest(seed=spec.seed, size=spec.size, kommunenummer=spec.kommunenummer,
                        generator_version=GENERATOR_VERSION, counts=dict(sorted(writer.counts.items())),
                        content_sha256=writer.content.hexdigest(), files=files, personas=personas,
                        shared=shared_counts,
                        spec={"age_distribution": spec.age_distribution,
                              "prevalence": {k: v for k, v in spec.prevalence},
                              "personas": list(spec.persona_keys()), "format": spec.format,
                              "historic_addresses": spec.historic_addresses})
    (out / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    return manifest
