"""The implementation guide as a FHIR package: what the validator, the platform and reports read.

The package in `package/` is compiled from the FSH in `input/fsh/` by `tools/build.sh` and
committed, so nothing here needs Node. Everything is read once and cached. Where the unpacked
folder is not installed (a wheel carries only `package.tgz`), the same files are read from the tgz.
"""
from __future__ import annotations

import hashlib
import io
import json
import tarfile
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def package_dir() -> Path:
    """The folder of the compiled package (package.json, .index.json, resources, example/)."""
    return _HERE / "package"


@cache
def _files() -> dict[str, bytes]:
    """Every file of the package by its path inside package/, from the folder or else the tgz."""
    root = package_dir()
    if (root / "package.json").is_file():
        return {p.relative_to(root).as_posix(): p.read_bytes()
                for p in sorted(root.rglob("*")) if p.is_file()}
    with tarfile.open(fileobj=io.BytesIO((_HERE / "package.tgz").read_bytes()), mode="r:gz") as tar:
        return {m.name.removeprefix("package/"): tar.extractfile(m).read()
                for m in tar.getmembers() if m.isfile()}


def _json(name: str) -> dict:
    return json.loads(_files()[name].decode("utf-8"))


PACKAGE_ID: str = _json("package.json")["name"]
PACKAGE_VERSION: str = _json("package.json")["version"]


def _read_folder(prefix: str) -> list[dict]:
    return [_json(prefix + row["filename"]) for row in _json(prefix + ".index.json")["files"]]


@cache
def load_package() -> dict[str, dict]:
    """The guide's conformance resources (profiles, extensions, code systems, value sets) by
    canonical URL. Returned shared and cached: callers must not mutate it."""
    return {r["url"]: r for r in _read_folder("") if "url" in r}


@cache
def load_examples() -> tuple[dict, ...]:
    """The example instances, each naming its profile in meta.profile."""
    return tuple(_read_folder("example/"))


def by_type(resource_type: str) -> dict[str, dict]:
    """The guide's resources of one type by URL, e.g. by_type("StructureDefinition")."""
    return {url: r for url, r in load_package().items() if r["resourceType"] == resource_type}


@cache
def package_sha256() -> str:
    """A content hash of the package (every file's path and bytes, in sorted order), independent
    of how the tgz is compressed: reports print it so a verdict names the guide it used."""
    digest = hashlib.sha256()
    for name, data in sorted(_files().items()):
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(data + b"\0")
    return digest.hexdigest()


__all__ = ["PACKAGE_ID", "PACKAGE_VERSION", "by_type", "load_examples", "load_package",
           "package_dir", "package_sha256"]
