"""The validator: resources per second over a generated cohort, each against its own profile,
and cold start (import plus loading the guide) in a fresh process.

Targets (issue 4): at least 5,000 resources/s in one process; cold start under 1 s.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time

COLD = ("import time; t = time.perf_counter(); "
        "from conformance.validator import Validator; Validator.default(); "
        "print(time.perf_counter() - t)")


def _cohort(size: int) -> list[dict]:
    from synthetic_data import CohortSpec, iter_patients
    spec = CohortSpec(size=size, seed=42)
    resources = [r for p in iter_patients(spec) for r in p.resources]
    try:
        from synthetic_data.cohort import shared_resources
        resources = list(shared_resources(spec)) + resources
    except ImportError:
        pass
    return resources


def run(size: int = 200, rounds: int = 3) -> dict:
    colds = [float(subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True,
                                  check=True).stdout) for _ in range(3)]
    from conformance.validator import Validator, is_error
    validator = Validator.default()
    resources = _cohort(size)
    errors = sum(1 for r in resources for i in validator.validate(r) if is_error(i))  # also warms up
    rates, cpu_rates = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        for resource in resources:
            validator.validate(resource)
        rates.append(len(resources) / (time.perf_counter() - wall))
        cpu_rates.append(len(resources) / (time.process_time() - cpu))
    return {
        "resources": len(resources),
        "resources_per_second": round(statistics.median(rates)),
        "resources_per_cpu_second": round(statistics.median(cpu_rates)),
        "cold_start_seconds": round(min(colds), 3),
        "cold_start_seconds_max": round(max(colds), 3),
        "errors_in_cohort": errors,
    }


if __name__ == "__main__":
    print(run())
