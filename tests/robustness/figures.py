"""Figures of the robustness runs, summed over xdist workers and printed at the end of the run.

The summary hook is imported by tests/conftest.py: with xdist only the root conftest is loaded on
the controller, which is where the terminal summary is written."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

_FIGURES_DIR = "sandkasse-robustness-figures"


def _folder(base: Path, on_worker: bool) -> Path:
    # An xdist worker's temp dir lives inside the controller's, which is this run's own.
    return (base.parent if on_worker else base) / _FIGURES_DIR


def record_figures(tmp_path_factory: pytest.TempPathFactory, name: str, figures: dict) -> None:
    folder = _folder(tmp_path_factory.getbasetemp(), "PYTEST_XDIST_WORKER" in os.environ)
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(figures))


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is None or hasattr(config, "workerinput"):
        return
    folder = _folder(factory.getbasetemp(), on_worker=False)
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        return
    totals: dict[str, int] = {}
    routes: set[str] = set()
    for path in files:
        figures = json.loads(path.read_text())
        routes.update(figures.pop("routes", []))
        for key, value in figures.items():
            totals[key] = totals.get(key, 0) + value
    terminalreporter.write_sep("-", "robustness figures")
    prefix = f"routes: {len(routes)}, " if routes else ""
    terminalreporter.write_line(prefix + ", ".join(f"{k}: {v}" for k, v in sorted(totals.items())))
