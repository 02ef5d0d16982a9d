"""The whole demo loop: cohort generation, loading over HTTP, suite run, reports."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sandbox.loop import run_demo


def run(size: int = 200) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        result = run_demo(Path(folder), size=size)
        seconds = time.perf_counter() - started
    return {"patients": size, "loop_seconds": round(seconds, 2), "verdict": result.verdict}
