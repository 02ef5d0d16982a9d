"""The published cohort the suite compares a target with: it knows exactly what must be there."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GroundTruth:
    folder: Path
    manifest: dict

    @classmethod
    def load(cls, folder: Path) -> "GroundTruth":
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(f"no cohort manifest at {manifest_path}; generate one with `sandkasse cohort`")
        return cls(folder, json.loads(manifest_path.read_text(encoding="utf-8")))

    def resources(self, rtype: str) -> Iterator[dict]:
        name = self.manifest["files"].get(rtype)
        if name is None:
            return
        with (self.folder / name).open(encoding="utf-8") as handle:
            for line in handle:
                yield json.loads(line)

    def sample(self, rtype: str, limit: int) -> list[dict]:
        out = []
        for resource in self.resources(rtype):
            out.append(resource)
            if len(out) >= limit:
                break
        return out
