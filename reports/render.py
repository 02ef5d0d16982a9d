"""Renderers: canonical JSON for machines, one self-contained HTML page for people, JUnit XML for CI.

Each renderer takes a `Report` or a report document (the dict of a report file, signed or not),
so an issued report renders exactly as it was signed.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from jinja2 import Environment, PackageLoader

from reports.model import DECLARED, FAILED, NOT_APPLICABLE, PASSED, Report

# Every template is HTML: escape always (select_autoescape() would skip the .j2 names).
_env = Environment(loader=PackageLoader("reports", "templates"), autoescape=True)


def document(report: Report | dict) -> dict:
    return report.to_dict() if isinstance(report, Report) else report


def to_json(report: Report | dict) -> str:
    """Stable output: sorted keys, two-space indent, UTF-8 text, trailing newline."""
    return json.dumps(document(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def to_html(report: Report | dict) -> str:
    from reports.signing import unverified_envelope  # local: signing needs cryptography, HTML does not
    doc = document(report)
    header, claims = unverified_envelope(doc) if doc.get("signature") else ({}, {})
    return _env.get_template("report.html.j2").render(
        report=doc, counts=doc.get("counts") or {}, claims=claims, kid=header.get("kid"),
        issued=_iso(claims.get("iat")), expires=_iso(claims.get("exp")))


def to_junit(report: Report | dict) -> str:
    """One testcase per requirement, so CI shows the catalog.

    CI goes red exactly when the verdict is "not verified": a failed SHALL is a <failure>;
    a failed SHOULD/MAY is advisory and is reported as <skipped> with what is wrong and the fix;
    declared and not-applicable requirements were not tested here and are <skipped> with the reason.
    """
    doc = document(report)
    requirements = doc.get("requirements", [])
    suite = ET.Element("testsuite", name="sandkasse verification", tests=str(len(requirements)),
                       timestamp=str(doc.get("started", "")))
    properties = ET.SubElement(suite, "properties")
    product = doc.get("product") or {}
    for name, value in (("verdict", doc.get("verdict")), ("report_id", doc.get("id")),
                        ("signed", str(bool(doc.get("signed"))).lower()),
                        ("product", product.get("name")), ("version", product.get("version")),
                        ("vendor_org", product.get("vendor_org")), ("suite_version", doc.get("suite_version")),
                        ("target", doc.get("target"))):
        if value is not None:
            ET.SubElement(properties, "property", name=name, value=str(value))
    failures = skipped = 0
    for req in requirements:
        case = ET.SubElement(suite, "testcase", classname=f"requirements.{req.get('area') or 'general'}",
                             name=f"{req['id']} {req.get('title', '')}".strip())
        status, level = req.get("status"), req.get("level")
        detail = _failure_text(req)
        if status == FAILED and level == "SHALL":
            failures += 1
            failure = ET.SubElement(case, "failure", message=req.get("message") or "requirement not met",
                                    type="requirement-failed")
            failure.text = detail
        elif status == FAILED:
            skipped += 1
            ET.SubElement(case, "skipped", message=f"advisory ({level}) not met: {req.get('message') or ''}".strip())
            ET.SubElement(case, "system-out").text = detail
        elif status == DECLARED:
            skipped += 1
            ET.SubElement(case, "skipped", message="declared by the vendor, not tested by the suite")
        elif status == NOT_APPLICABLE:
            skipped += 1
            ET.SubElement(case, "skipped", message="not applicable: no test of this run covers it")
        elif status != PASSED:
            skipped += 1
            ET.SubElement(case, "skipped", message=f"status {status}")
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _failure_text(req: dict) -> str:
    lines = [req.get("message") or "requirement not met"]
    if req.get("fix"):
        lines.append(f"Fix: {req['fix']}")
    for item in req.get("evidence", []):
        lines.append(f"Evidence {item.get('label')} (sha256 {item.get('sha256')})")
    return "\n".join(lines)


def _iso(timestamp: int | None) -> str | None:
    if timestamp is None:
        return None
    from datetime import datetime, timezone
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat().replace("+00:00", "Z")


RENDERERS = {"json": to_json, "html": to_html, "junit": to_junit}


def write(report: Report | dict, out_dir: Path, stem: str = "report") -> dict[str, Path]:
    """Write report.json, report.html and report.junit.xml (one testcase per requirement; pytest's
    own --junitxml has one per test)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / f"{stem}.json", "html": out_dir / f"{stem}.html",
             "junit": out_dir / f"{stem}.junit.xml"}
    for kind, path in paths.items():
        path.write_text(RENDERERS[kind](report), encoding="utf-8")
    return paths
