"""Vendors can load the package into their own tools: Medplum (an independent FHIR validator on
npm) validates every example against the profile it names, and rejects broken ones for the
reasons the guide gives. Needs node; the pinned tools come from the build's cache."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import conformance.ig as ig
from ig_support import example

TOOLS = Path(ig.__file__).parent / "tools"
ROOT = Path(ig.__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ig-build")]


@pytest.fixture(scope="module")
def medplum():
    cache = Path(os.environ.get("SANDKASSE_CACHE", ROOT / ".cache"))
    done = subprocess.run(["bash", str(TOOLS / "build.sh"), "--tools-only"], capture_output=True, text=True,
                          env={**os.environ, "PYTHON": sys.executable}, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    env = {**os.environ, "NODE_PATH": str(cache / "ig-node" / "node_modules")}

    def run(*files: Path) -> dict[str, list[dict]]:
        out = subprocess.run(["node", str(TOOLS / "medplum_validate.js"), str(ig.package_dir()), *map(str, files)],
                             capture_output=True, text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout)
    return run


def _errors(issues: list[dict]) -> list[str]:
    return [f"{i['expression']}: {i['text']}" for i in issues if i["severity"] in ("error", "fatal")]


def test_every_example_is_valid_in_medplum(medplum):
    results = medplum()
    assert len(results) == len(ig.load_examples())
    assert {k: _errors(v) for k, v in results.items() if _errors(v)} == {}


def test_medplum_rejects_what_the_profiles_forbid(medplum, tmp_path):
    score = example("news2-score")
    score["valueInteger"] = 7                       # the components sum to 6
    vedtak = example("vedtak-hjemmesykepleie")
    vedtak["type"][0]["coding"] = vedtak["type"][0]["coding"][1:]   # no national KPR service type
    patient = example("kari-nordmann")
    del patient["birthDate"]
    files = []
    for resource in (score, vedtak, patient):
        path = tmp_path / f"{resource['id']}.json"
        path.write_text(json.dumps(resource), encoding="utf-8")
        files.append(path)
    results = medplum(*files)
    assert any("sk-news2-total-sum" in e for e in _errors(results["news2-score"]))
    assert _errors(results["vedtak-hjemmesykepleie"]), "a vedtak without its KPR coding passed"
    assert any("birthDate" in e for e in _errors(results["kari-nordmann"]))
