"""The requirement catalog: every requirement a vendor is verified against, read from TOML files.

One file per area (`fhir-api.toml`, `security.toml`, ...). Each `[[requirement]]` names how it is
verified: the suite's test functions that carry its ID in their `requirement` marker, or
`["declared"]` for what no test can observe (storage on Norwegian soil, ROS/ISMS, retention).
`security.toml` also holds the `[[control]]` table (C1–C17 of the seed) and the `[[ros]]` risks; a
requirement says which controls and risks it covers in `controls` and `ros`.
"""
from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

LEVELS = ("SHALL", "SHOULD", "MAY")
REPORT_AREAS = ("exchange", "integration", "security", "privacy", "patient-safety")
ROLES = ("server", "producer", "consumer", "all")   # "all": applies whatever role is verified
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
    controls: tuple[str, ...] = field(default_factory=tuple)   # C1–C17 of security-and-marketplace
    ros: tuple[str, ...] = field(default_factory=tuple)        # ROS risk ids
    report_area: str = ""   # exchange | integration | security | privacy | patient-safety (report §2.4 item 4)

    @property
    def declared(self) -> bool:
        return self.verified_by == (DECLARED,)

    def applies_to(self, roles: set[str] | frozenset[str]) -> bool:
        return not roles or self.role == "all" or self.role in roles


@dataclass(frozen=True)
class Control:
    """A security/privacy requirement of the seed (C1–C17) or a ROS risk, and where it is verified."""
    id: str
    title: str
    source: str
    note: str = ""


def _catalog_files() -> list:
    folder = files("conformance.requirements")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)


@cache
def _parsed() -> tuple[tuple[str, dict], ...]:
    return tuple((p.name, tomllib.loads(p.read_text(encoding="utf-8"))) for p in _catalog_files())


@cache
def load_catalog() -> dict[str, Requirement]:
    catalog: dict[str, Requirement] = {}
    for name, data in _parsed():
        for entry in data.get("requirement", []):
            try:
                req = Requirement(
                    id=entry["id"], level=entry["level"], role=entry["role"], title=entry["title"],
                    text=entry["text"], source=entry["source"], verified_by=tuple(entry["verified_by"]),
                    fix=entry["fix"], area=data.get("area", name.removesuffix(".toml")),
                    tags=tuple(entry.get("tags", ())), controls=tuple(entry.get("controls", ())),
                    ros=tuple(str(r) for r in entry.get("ros", ())),
                    report_area=entry.get("report_area", data.get("report_area", "")))
            except KeyError as missing:
                raise ValueError(f"{name}: requirement {entry.get('id', '?')} lacks {missing}") from None
            if req.id in catalog:
                raise ValueError(f"{name}: requirement {req.id} is defined twice")
            if req.level not in LEVELS:
                raise ValueError(f"{name}: {req.id} has level {req.level!r}, expected one of {LEVELS}")
            if req.report_area and req.report_area not in REPORT_AREAS:
                raise ValueError(f"{name}: {req.id} has report_area {req.report_area!r}, expected one of {REPORT_AREAS}")
            if req.role not in ROLES:
                raise ValueError(f"{name}: {req.id} has role {req.role!r}, expected one of {ROLES}")
            catalog[req.id] = req
    return catalog


@cache
def load_controls() -> dict[str, Control]:
    """The seed's controls (C1–C17) and ROS risks (`ROS-<n>`), from the `[[control]]`/`[[ros]]` tables."""
    controls: dict[str, Control] = {}
    for _name, data in _parsed():
        for entry in data.get("control", []):
            controls[entry["id"]] = Control(entry["id"], entry["title"], entry["source"], entry.get("note", ""))
        for entry in data.get("ros", []):
            rid = f"ROS-{entry['id']}"
            controls[rid] = Control(rid, entry["title"], entry["source"], entry.get("note", ""))
    return controls


def coverage(control_id: str) -> list[Requirement]:
    """The requirements that cover a control (C1..) or a ROS risk (ROS-<n>)."""
    key = control_id.removeprefix("ROS-")
    if control_id.startswith("ROS-"):
        return [r for r in load_catalog().values() if key in r.ros]
    return [r for r in load_catalog().values() if control_id in r.controls]


def catalog_sha256() -> str:
    """A hash over the catalog files, so a report names exactly the catalog it was verified against."""
    digest = hashlib.sha256()
    for path in _catalog_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
