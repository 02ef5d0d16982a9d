"""The report model, its JSON Schema and the three renderers."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

import reports
from reports import Report, to_html, to_json, to_junit
from reports.signing import sign

SCHEMA = json.loads((Path(reports.__file__).parent / "schema" / "report.schema.json").read_text(encoding="utf-8"))


def _validate(document: dict) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(document)


def test_generated_reports_match_the_schema(report, passing_report, operator_key) -> None:
    _validate(json.loads(to_json(report)))
    _validate(json.loads(to_json(passing_report)))
    _validate(sign(passing_report, operator_key, issuer="test operator"))


def test_the_plugins_minimal_report_matches_the_schema() -> None:
    # The constructor the pytest plugin uses today: every newer field has a default.
    minimal = Report(target="http://x/fhir", suite_version="0.1.0", started="2026-01-01T00:00:00Z",
                     finished="2026-01-01T00:00:01Z",
                     requirements=[reports.RequirementResult("A-1", "t", "SHALL", "passed")])
    _validate(minimal.to_dict())


def test_schema_rejects_what_it_should(report) -> None:
    document = json.loads(to_json(report))
    document["requirements"][0]["status"] = "sort of"
    with pytest.raises(jsonschema.ValidationError):
        _validate(document)
    document = json.loads(to_json(report)) | {"surprise": 1}
    with pytest.raises(jsonschema.ValidationError):
        _validate(document)


def test_from_dict_round_trip(report) -> None:
    document = report.to_dict()
    again = Report.from_dict(json.loads(json.dumps(document)))
    assert again == report
    assert again.to_dict() == document


def test_verdict_depends_only_on_failed_shall(report, passing_report) -> None:
    assert report.verdict == "not verified"
    assert passing_report.verdict == "verified"
    passing_report.requirements[3].status = "failed"      # a SHOULD
    assert passing_report.verdict == "verified"


def test_json_is_canonical_and_stable(report) -> None:
    text = to_json(report)
    assert text == to_json(Report.from_dict(json.loads(text)))
    keys = list(json.loads(text))
    assert keys == sorted(keys)


def test_evidence_is_hashed_into_the_report(report) -> None:
    document = report.to_dict()
    evidence = document["requirements"][1]["evidence"][0]
    assert len(evidence["sha256"]) == 64
    before = document["evidence_digest"]
    report.requirements[1].evidence[0] = reports.Evidence("GET x", "other bytes")
    assert report.to_dict()["evidence_digest"] != before


def test_junit_has_one_testcase_per_requirement_and_stays_green_for_declared(report) -> None:
    root = ET.fromstring(to_junit(report).encode("utf-8"))
    assert root.tag == "testsuite"
    cases = root.findall("testcase")
    assert len(cases) == 4 == int(root.get("tests"))
    assert root.get("failures") == "1" and root.get("skipped") == "2" and root.get("errors") == "0"
    failed = next(c for c in cases if c.get("name").startswith("KT-03"))
    failure = failed.find("failure")
    assert "authoredOn" in failure.get("message")
    assert "Fix: Set ServiceRequest.authoredOn" in failure.text
    declared = next(c for c in cases if c.get("name").startswith("SEC-02"))
    assert "declared" in declared.find("skipped").get("message")
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["verdict"] == "not verified" and props["signed"] == "false" and props["version"] == "4.2.1"


def test_junit_failed_should_is_advisory_not_red(passing_report) -> None:
    passing_report.requirements[3].status = "failed"
    passing_report.requirements[3].message, passing_report.requirements[3].fix = "no sub-scores", "add them"
    root = ET.fromstring(to_junit(passing_report).encode("utf-8"))
    assert root.get("failures") == "0"
    case = next(c for c in root.findall("testcase") if c.get("name").startswith("N2-09"))
    assert "advisory" in case.find("skipped").get("message")
    assert "Fix: add them" in case.find("system-out").text


def test_html_is_self_contained_and_puts_the_summary_first(report) -> None:
    page = to_html(report)
    assert "UNSIGNED" in page
    for external in ("<script", "<link", "src=", "@import", "url("):
        assert external not in page
    order = [page.index(marker) for marker in ('id="verdict"', 'id="summary-h"', 'id="failures-h"',
                                               'id="requirements-h"', 'id="disclaimer"')]
    assert order == sorted(order)
    assert "Set ServiceRequest.authoredOn to the date of the vedtak." in page
    assert "EksJournal" in page and "999888777" in page and "source-system, consumer" in page


def test_html_of_a_signed_report_shows_issuer_and_expiry(passing_report, operator_key) -> None:
    page = to_html(sign(passing_report, operator_key, issuer="Marketplace operator"))
    assert "UNSIGNED" not in page
    assert "Marketplace operator" in page and "valid until" in page


def test_write_keeps_the_loop_contract(report, tmp_path) -> None:
    paths = reports.write(report, tmp_path / "out")
    document = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert document["verdict"] == "not verified" and document["signed"] is False
    assert {r["status"] for r in document["requirements"]} == {"passed", "failed", "declared", "not-applicable"}
    assert paths["html"].read_text(encoding="utf-8").startswith("<!doctype html>")
    assert ET.parse(paths["junit"]).getroot().get("tests") == "4"


def test_html_escapes_vendor_controlled_text(report) -> None:
    report.requirements[1].evidence = [reports.Evidence("<img src=x onerror=alert(1)>", "<script>alert(1)</script>")]
    report.requirements[1].message = "</td><script>x()</script>"
    page = to_html(report)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
