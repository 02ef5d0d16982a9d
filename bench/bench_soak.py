"""Soak: sustained mixed load on the platform for several minutes, in intervals, to show that
throughput and latency hold, nothing fails, and memory does not keep growing.

The mix is what a municipality's platform sees: mostly reads and searches by consumers, and a
steady stream of NEWS2 sets from producers (which keep adding Observations to the same
patients, so the searches' patients' histories grow all the time). Each interval reports
requests/s, p50/p99 overall and per kind, errors, the resident memory of the platform's processes
and the size of the SQLite WAL; the summary gives the growth after warm-up and whether the last
interval's throughput is within 20 % of the first's (`throughput_held`).

    .venv/bin/python -m bench.run --only soak          # SOAK_SECONDS=180, SOAK_INTERVAL=30 by default
    BENCH_SOAK_SECONDS=60 SOAK_INTERVAL=15 ...          # shorter, while iterating
    SOAK_SEARCH_COUNT=10 ...                            # searches ask for a page of 10 (default 50)

The search asks for every heart rate since 2025-01-01, and every NEWS2 set adds one, so its
answer grows from a few entries to a full page (50) during the soak: a search then costs more
because it returns more, which a fixed page size (SOAK_SEARCH_COUNT) separates from any cost
of the growing history itself.
"""
from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from bench.bench_platform import CONCURRENCY, LOINC, _load, _news2_bundle, loaded_platform

SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS") or os.environ.get("SOAK_SECONDS", "180"))
INTERVAL = float(os.environ.get("SOAK_INTERVAL", "30"))
MIX = (("read", 0.6), ("search", 0.3), ("intake", 0.1))
HELD = 0.8        # the last interval's throughput must be at least this share of the first's
SEARCH_COUNT = int(os.environ.get("SOAK_SEARCH_COUNT", "50"))


def _rss_mb(root: int) -> float:
    """Resident memory of a process and its children (the gunicorn workers), from /proc."""
    total_kb = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(entry.name) == root or int(fields.get("PPid", "0").strip()) == root:
            total_kb += int(fields.get("VmRSS", "0 kB").split()[0])
    return round(total_kb / 1024, 1)


def run() -> dict:
    intervals = []
    with loaded_platform(prefix="sandkasse-soak-") as platform:
        patients, base = platform.patients, "/0301/fhir"

        def mixed(rng):
            kind = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
            patient = rng.choice(patients)
            if kind == "read":
                return "GET", f"{base}/Patient/{patient}", None, kind
            if kind == "search":
                return ("GET", f"{base}/Observation?patient={patient}&code={LOINC}|8867-4&date=ge2025-01-01"
                               f"&_count={SEARCH_COUNT}", None, kind)
            return "POST", base, _news2_bundle(patient, rng), kind

        started = time.perf_counter()
        while time.perf_counter() - started < SECONDS:
            result = asyncio.run(_load(platform.url, mixed, CONCURRENCY, INTERVAL))
            result["rss_mb"] = _rss_mb(platform.server.pid)
            result["wal_mb"] = platform.wal_mb()
            result["load_avg"] = round(os.getloadavg()[0], 1)    # other work on the machine skews figures
            intervals.append(result)
            print(f"  soak {len(intervals) * INTERVAL:>5.0f} s: " + ", ".join(f"{k}={v}" for k, v in result.items()),
                  flush=True)
        wal_end = platform.wal_mb()
    warm = intervals[1:] or intervals     # the first interval warms caches and compiles profiles
    first, last = intervals[0]["req_per_s"], intervals[-1]["req_per_s"]
    return {
        "seconds": round(SECONDS), "clients": CONCURRENCY, "mix": "/".join(f"{k} {w:.0%}" for k, w in MIX),
        "search_count": SEARCH_COUNT,
        "requests": sum(i["requests"] for i in intervals), "errors": sum(i["errors"] for i in intervals),
        "req_per_s_by_interval": [i["req_per_s"] for i in intervals],
        "search_p99_ms_by_interval": [i.get("search_p99_ms") for i in intervals],
        "req_per_s_min": min(i["req_per_s"] for i in warm), "req_per_s_max": max(i["req_per_s"] for i in warm),
        "p50_ms_max": max(i["p50_ms"] for i in warm), "p99_ms_max": max(i["p99_ms"] for i in warm),
        "last_to_first": round(last / first, 2) if first else 0.0,
        "throughput_held": last >= HELD * first,
        "wal_mb_max": max(i["wal_mb"] for i in intervals), "wal_mb_end": wal_end,
        "load_avg_by_interval": [i["load_avg"] for i in intervals],
        "rss_mb_after_warmup": warm[0]["rss_mb"], "rss_mb_end": intervals[-1]["rss_mb"],
        "rss_growth_mb_per_min": round((intervals[-1]["rss_mb"] - warm[0]["rss_mb"])
                                       / max((len(intervals) - 1) * INTERVAL / 60, 1e-9), 2),
    }
