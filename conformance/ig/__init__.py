"""The implementation guide as a FHIR package: what the validator, the platform and reports read.

The package in `package/` is compiled from the FSH in `input/fsh/` by `tools/build.sh` and
committed, so nothing here needs Node. Everything is read once and cached.
"""
from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def package_dir() -> Path:
    """The folder of the compiled package (package.json, .index.json, resources, example/)."""
    return _HERE / "package"


def _manifest() -> dict:
    return json.loads((package_dir() / "package.json").read_text(encoding="utf-8"))


PACKAGE_ID: str = _manifest()["name"]
PACKAGE_VERSION: str = _manifest()["version"]


def _read_folder(folder: Path) -> list[dict]:
    index = json.loads((folder / ".index.json").read_text(encoding="utf-8"))
    return [json.loads((folder / row["filename"]).read_text(encoding="utf-8"))
            for row in index["files"]]


@cache
def load_package() -> dict[str, dict]:
    """The guide's conformance resources (profiles, extensions, code systems, value sets) by
    canonical URL. Returned shared and cached: callers must not mutate it."""
    return {r["url"]: r for r in _read_folder(package_dir()) if "url" in r}


@cache
def load_examples() -> tuple[dict, ...]:
    """The example instances, each naming its profile in meta.profile."""
    return tuple(_read_folder(package_dir() / "example"))


def by_type(resource_type: str) -> dict[str, dict]:
    """The guide's resources of one type by URL, e.g. by_type("StructureDefinition")."""
    return {url: r for url, r in load_package().items() if r["resourceType"] == resource_type}


@cache
def package_sha256() -> str:
    """A content hash of the package (every file's path and bytes, in sorted order), independent
    of how the tgz is compressed: reports print it so a verdict names the guide it used."""
    digest = hashlib.sha256()
    root = package_dir()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


__all__ = ["PACKAGE_ID", "PACKAGE_VERSION", "by_type", "load_examples", "load_package",
           "package_dir", "package_sha256"]
