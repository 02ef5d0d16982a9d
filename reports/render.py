"""Renderers: JSON for machines, one self-contained HTML page for people."""
from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from reports.model import Report

_env = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape())


def to_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def to_html(report: Report) -> str:
    counts: dict[str, int] = {}
    for result in report.requirements:
        counts[result.status] = counts.get(result.status, 0) + 1
    return _env.get_template("report.html.j2").render(report=report, counts=counts)


def write(report: Report, out_dir: Path, stem: str = "report") -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / f"{stem}.json", "html": out_dir / f"{stem}.html"}
    paths["json"].write_text(to_json(report), encoding="utf-8")
    paths["html"].write_text(to_html(report), encoding="utf-8")
    return paths
