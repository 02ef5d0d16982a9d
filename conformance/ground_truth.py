"""The published cohort the suite compares a target with: it knows exactly what must be there.

Inferno never knows the data a server holds, so it can check precision but not recall. sandkasse's
vendors load a published cohort, so the suite can compute the exact answer to every read and
search and check both: every matching record returned, and nothing else.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class GroundTruth:
    folder: Path
    manifest: dict
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, folder: Path) -> "GroundTruth":
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(f"no cohort manifest at {manifest_path}; generate one with `sandkasse cohort`")
        return cls(folder, json.loads(manifest_path.read_text(encoding="utf-8")))

    @property
    def types(self) -> list[str]:
        return sorted(t for t in self.manifest.get("files", {}) if t[:1].isupper())

    def resources(self, rtype: str) -> Iterator[dict]:
        name = self.manifest["files"].get(rtype)
        if name is None:
            return
        with (self.folder / name).open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)

    def all(self, rtype: str) -> list[dict]:
        """Every resource of a type, read once."""
        key = ("all", rtype)
        if key not in self._cache:
            self._cache[key] = list(self.resources(rtype))
        return self._cache[key]

    def sample(self, rtype: str, limit: int) -> list[dict]:
        return self.all(rtype)[:limit]

    def patients(self, limit: int) -> list[dict]:
        return self.sample("Patient", limit)

    def type_of(self, rid: str) -> str | None:
        """The resource type of an id in the cohort (ids are unique across types: uuid5)."""
        if "types" not in self._cache:
            self._cache["types"] = {r["id"]: t for t in self.types for r in self.all(t)}
        return self._cache["types"].get(rid)

    def get(self, rtype: str, rid: str) -> dict | None:
        key = ("by-id", rtype)
        if key not in self._cache:
            self._cache[key] = {r["id"]: r for r in self.all(rtype)}
        return self._cache[key].get(rid)

    def reference(self, ref: str) -> str:
        """A reference as a server states it after loading: `urn:uuid:<id>` becomes `Type/<id>`."""
        if ref.startswith("urn:uuid:"):
            rid = ref.removeprefix("urn:uuid:")
            rtype = self.type_of(rid)
            return f"{rtype}/{rid}" if rtype else ref
        return ref

    def for_patient(self, rtype: str, path: str, patient_id: str) -> list[dict]:
        """The resources of a type that refer to the patient through `path` (e.g. `subject`)."""
        key = ("by-patient", rtype, path)
        if key not in self._cache:
            index: dict[str, list[dict]] = {}
            for resource in self.all(rtype):
                ref = (resource.get(path) or {}).get("reference", "")
                index.setdefault(self.reference(ref).removeprefix("Patient/"), []).append(resource)
            self._cache[key] = index
        return self._cache[key].get(patient_id, [])
