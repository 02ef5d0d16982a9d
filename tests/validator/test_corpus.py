"""The invalid-resource corpus (tests/validator/corpus/): every file is caught with exactly the
issue its manifest names (severity, FHIRPath expression, rule), and each issue carries a fix."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from conformance.validator import Validator, is_error

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
CASES = tomllib.loads((CORPUS / "manifest.toml").read_text(encoding="utf-8"))["case"]


def test_the_corpus_is_large_and_every_file_is_listed():
    files = {p.name for p in CORPUS.glob("*.json")}
    assert len(CASES) >= 100
    assert files == {c["file"] for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c["file"].removesuffix(".json") for c in CASES])
def test_each_defect_is_reported_where_it_is(case):
    resource = json.loads((CORPUS / case["file"]).read_text(encoding="utf-8"))
    issues = Validator.default().validate(resource)
    found = {(i.severity, i.expression, i.rule): i for i in issues}
    for expected in case["expect"]:
        key = (expected["severity"], expected["expression"], expected["rule"])
        assert key in found, f"{case['file']}: expected {key}; got {sorted(found)}"
        issue = found[key]
        assert issue.fix and issue.message and "…" not in issue.fix
    assert any(is_error(i) for i in issues)


def test_the_valid_bundle_next_to_the_corpus_has_no_errors():
    bundle = json.loads((HERE / "valid-bundle.json").read_text(encoding="utf-8"))
    assert [i for i in Validator.default().validate(bundle) if is_error(i)] == []


def test_the_news2_sum_fix_names_the_right_total():
    resource = json.loads((CORPUS / "sk-news2-score-sum-mismatch.json").read_text(encoding="utf-8"))
    total = sum(c["valueInteger"] for c in resource["component"])
    issue = next(i for i in Validator.default().validate(resource) if i.rule == "sk-news2-total-sum")
    assert issue.fix.startswith(f"Set valueInteger to {total}, ")


def test_a_slice_fix_names_the_identifier_system():
    resource = json.loads((CORPUS / "sk-practitioner-no-hpr.json").read_text(encoding="utf-8"))
    issue = next(i for i in Validator.default().validate(resource) if i.rule == "slice-min")
    assert "urn:oid:2.16.578.1.12.4.1.4.4" in issue.fix and "HPR-nummer" in issue.fix
