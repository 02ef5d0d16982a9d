"""The catalog is the suite's backbone: every requirement is verified (or declared), every test
names a requirement, and docs/requirements.md is generated from it."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import conformance.suite
from conformance.requirements import DECLARED, load_catalog, load_controls, coverage
from sandbox.commands.requirements import markdown

ROOT = Path(__file__).resolve().parents[2]


def suite_tests() -> dict[str, set[str]]:
    """test function name -> the requirement IDs its markers carry (per-parameter marks included)."""
    found: dict[str, set[str]] = {}
    for info in pkgutil.walk_packages(conformance.suite.__path__, "conformance.suite."):
        if not info.name.rsplit(".", 1)[-1].startswith("test_"):
            continue
        module = importlib.import_module(info.name)
        for name, fn in vars(module).items():
            if not (name.startswith("test_") and callable(fn)):
                continue
            ids = found.setdefault(name, set())
            for mark in getattr(fn, "pytestmark", []):
                if mark.name == "requirement":
                    ids.update(mark.args)
                if mark.name == "parametrize":
                    for value in mark.args[1]:
                        for sub in getattr(value, "marks", ()):
                            if sub.name == "requirement":
                                ids.update(sub.args)
    return found


def test_every_requirement_is_verified_by_a_test_that_names_it_or_declared() -> None:
    tests = suite_tests()
    for req in load_catalog().values():
        assert req.verified_by, f"{req.id} has no verification"
        if req.declared:
            continue
        assert DECLARED not in req.verified_by, f"{req.id} mixes 'declared' with tests"
        for name in req.verified_by:
            assert name in tests, f"{req.id} is verified by {name}, which is not a test in conformance/suite"
            assert req.id in tests[name], f"{name} does not carry requirement({req.id!r})"


def test_every_suite_test_names_existing_requirements() -> None:
    catalog = load_catalog()
    for name, ids in suite_tests().items():
        assert ids, f"{name} names no requirement"
        assert ids <= set(catalog), f"{name} names unknown requirements {sorted(ids - set(catalog))}"
        for req_id in ids:   # and the catalog says so in return
            assert name in catalog[req_id].verified_by, f"{req_id} does not list {name} in verified_by"


def test_requirements_have_sources_fixes_and_unique_ids() -> None:
    catalog = load_catalog()
    assert len(catalog) >= 30
    for req in catalog.values():
        assert req.source.strip() and req.fix.strip() and req.text.strip(), req.id
        assert req.id.startswith(("SK-API-", "SK-SEC-", "SK-KT-", "SK-N2-", "SK-DATA-", "SK-DECL-",
                                  "SK-PROD-", "SK-CONS-")), req.id


def test_duplicate_ids_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.requirements import catalog as module
    entry = ('[[requirement]]\nid = "SK-X-1"\nlevel = "SHALL"\nrole = "server"\ntitle = "t"\ntext = "t"\n'
             'source = "s"\nverified_by = ["declared"]\nfix = "f"\n')
    (tmp_path / "a.toml").write_text(entry)
    (tmp_path / "b.toml").write_text(entry)
    monkeypatch.setattr(module, "_catalog_files", lambda: sorted(tmp_path.iterdir()))
    module._parsed.cache_clear()
    module.load_catalog.cache_clear()
    try:
        with pytest.raises(ValueError, match="SK-X-1 is defined twice"):
            module.load_catalog()
    finally:
        monkeypatch.undo()
        module._parsed.cache_clear()
        module.load_catalog.cache_clear()


def test_every_seed_control_is_listed_and_covered() -> None:
    controls = load_controls()
    assert {f"C{n}" for n in range(1, 18)} <= set(controls)
    uncovered = [c for c in controls if not coverage(c)]
    assert not uncovered, f"controls without any requirement: {uncovered}"


def test_docs_requirements_md_is_generated_from_the_catalog() -> None:
    committed = (ROOT / "docs" / "requirements.md").read_text(encoding="utf-8")
    assert committed == markdown(), "docs/requirements.md is stale: run `sandkasse requirements --format markdown > docs/requirements.md`"
