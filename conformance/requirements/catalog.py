"""The requirement catalog: every requirement a vendor is verified against, read from TOML files."""
from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

LEVELS = ("SHALL", "SHOULD", "MAY")
DECLARED = "declared"


@dataclass(frozen=True)
class Requirement:
    id: str
    level: str
    role: str
    title: str
    text: str
    source: str
    verified_by: tuple[str, ...]    # test function names, or ("declared",)
    fix: str
    area: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def declared(self) -> bool:
        return self.verified_by == (DECLARED,)


def _catalog_files() -> list:
    folder = files("conformance.requirements")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)


@cache
def load_catalog() -> dict[str, Requirement]:
    catalog: dict[str, Requirement] = {}
    for path in _catalog_files():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for entry in data.get("requirement", []):
            req = Requirement(
                id=entry["id"], level=entry["level"], role=entry["role"], title=entry["title"],
                text=entry["text"], source=entry["source"], verified_by=tuple(entry["verified_by"]),
                fix=entry["fix"], area=data.get("area", path.name.removesuffix(".toml")),
                tags=tuple(entry.get("tags", ())))
            if req.id in catalog:
                raise ValueError(f"{path.name}: requirement {req.id} is defined twice")
            if req.level not in LEVELS:
                raise ValueError(f"{path.name}: {req.id} has level {req.level!r}, expected one of {LEVELS}")
            catalog[req.id] = req
    return catalog


def catalog_sha256() -> str:
    """A hash over the catalog files, so a report names exactly the catalog it was verified against."""
    digest = hashlib.sha256()
    for path in _catalog_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
