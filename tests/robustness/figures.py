"""Figures of the robustness runs, summed over xdist workers and printed at the end of the run.

The summary hook is imported by tests/conftest.py: with xdist only the root conftest is loaded on
the controller, which is where the terminal summary is written."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_FIGURES_DIR = "sandkasse-robustness-figures"


def _folder(on_worker: bool) -> Path:
    # Keyed by the pid of the run's controller (an xdist worker is its child process), and not
    # under pytest's numbered temp dirs: other pytest runs on the same machine clean those up,
    # figures and all, while a long run is still going.
    owner = os.getppid() if on_worker else os.getpid()
    return Path(tempfile.gettempdir()) / f"{_FIGURES_DIR}-{owner}"


def record_figures(name: str, figures: dict) -> None:
    folder = _folder("PYTEST_XDIST_WORKER" in os.environ)
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(figures))


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    folder = _folder(on_worker=False)
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
    shutil.rmtree(folder, ignore_errors=True)
    terminalreporter.write_sep("-", "robustness figures")
    prefix = f"routes: {len(routes)}, " if routes else ""
    terminalreporter.write_line(prefix + ", ".join(f"{k}: {v}" for k, v in sorted(totals.items())))
