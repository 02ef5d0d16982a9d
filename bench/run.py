"""Run every benchmark (or those named), print the figures and write them as JSON.

    python -m bench.run [--out out/bench] [--only cohort platform ...]
"""
from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import bench


def discover() -> list[str]:
    return sorted(m.name.removeprefix("bench_") for m in pkgutil.iter_modules(bench.__path__)
                  if m.name.startswith("bench_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--out", type=Path, default=Path("out/bench"))
    parser.add_argument("--only", nargs="*", choices=discover(), help="benchmarks to run (default: all)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    machine = {"python": sys.version.split()[0], "machine": platform.machine(), "cpus": _cpus()}
    for name in args.only or discover():
        module = importlib.import_module(f"bench.bench_{name}")
        started = time.perf_counter()
        figures = module.run()
        result = {"benchmark": name, "figures": figures, "machine": machine,
                  "wall_seconds": round(time.perf_counter() - started, 2),
                  "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        (args.out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    return 0


def _cpus() -> int:
    import os
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
