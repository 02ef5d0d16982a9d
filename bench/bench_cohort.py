"""Cohort generation: patients per second (wall clock and CPU time) and resources per patient in one
process, and peak memory of a streaming run, measured in a fresh subprocess (getrusage of the child).

    python -m bench.run --only cohort                    # 20,000 patients
    SANDKASSE_BENCH_COHORT_SIZE=100000 python -m bench.run --only cohort
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from synthetic_data import CohortSpec, write_cohort
size, out = int(sys.argv[1]), Path(sys.argv[2])
started, cpu_started = time.perf_counter(), time.process_time()
manifest = write_cohort(CohortSpec(size=size, seed=42), out)
seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "resources": sum(manifest.counts.values()), "peak_kb": peak_kb,
                  "bytes": sum(p.stat().st_size for p in out.iterdir())}))
"""


def run(size: int | None = None) -> dict:
    size = size or int(os.environ.get("SANDKASSE_BENCH_COHORT_SIZE", "20000"))
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run([sys.executable, "-c", _CHILD, str(size), folder], check=True,
                                capture_output=True, text=True)
    figures = json.loads(result.stdout)
    return {
        "patients": size,
        "patients_per_second": round(size / figures["seconds"]),
        # CPU time of the one process: the fair figure on a machine shared with other work
        "patients_per_cpu_second": round(size / figures["cpu_seconds"]),
        "resources_per_patient": round(figures["resources"] / size, 1),
        "resources_per_second": round(figures["resources"] / figures["seconds"]),
        "peak_rss_mb": round(figures["peak_kb"] / 1024, 1),
        "output_mb": round(figures["bytes"] / 1e6, 1),
        "seconds": round(figures["seconds"], 2),
    }
