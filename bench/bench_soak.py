"""Soak: sustained mixed load on the platform for several minutes, in intervals, to show that
latency holds under a steady load, nothing fails, and neither memory nor the WAL keeps growing.

The mix is what a municipality's platform sees: mostly reads and searches by consumers, and a
steady stream of NEWS2 sets from producers (which keep adding Observations to the same
patients, so the searches' patients' histories grow all the time). Two modes (SOAK_MODE):

- paced (default): the mix offered at a fixed rate (SOAK_RATE requests/s) on 32 connections, open
  loop, latency counted from when each request was due: the load a platform carries for hours.
  `held`: every interval achieved at least 98 % of the offered rate, with no errors and a p99
  under P99_BOUND_MS.
- closed: 32 clients that each send the next request when the last is answered: the capacity,
  interval by interval (`throughput_held`: the last interval within 20 % of the first).

Each interval reports requests/s, p50/p99 overall and per kind, errors, the platform's CPU per
request, the resident memory of its processes and the size of the SQLite WAL; the summary gives
memory growth after warm-up. The search asks for every heart rate since 2025-01-01 and every
NEWS2 set adds one, so its answer (the total, and the page of 50) grows during the soak and so
does its cost: CPU per request shows how much, apart from any change in the platform itself.

    .venv/bin/python -m bench.run --only soak          # 180 s in 30 s intervals, paced at 600/s
    BENCH_SOAK_SECONDS=60 SOAK_INTERVAL=15 ...          # shorter, while iterating
    SOAK_MODE=closed ...                                # capacity instead of a steady load
    SOAK_SEARCH_COUNT=10 ...                            # searches ask for a page of 10 (default 50)
"""
from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

from bench.bench_platform import (CONCURRENCY, LOINC, _cpu_seconds, _load, _news2_bundle, _paced, _request_bytes,
                                  loaded_platform)

SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS") or os.environ.get("SOAK_SECONDS", "180"))
INTERVAL = float(os.environ.get("SOAK_INTERVAL", "30"))
MODE = os.environ.get("SOAK_MODE", "paced")
RATE = float(os.environ.get("SOAK_RATE", "600"))
MIX = (("read", 0.6), ("search", 0.3), ("intake", 0.1))
HELD = 0.8              # closed loop: the last interval's throughput at least this share of the first's
P99_BOUND_MS = 100.0    # paced: every interval's p99 under this
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


def _mixed(patients: list[str], base: str):
    """One request of the mix: (method, path, body, kind)."""
    def make(rng: random.Random) -> tuple:
        kind = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
        patient = rng.choice(patients)
        if kind == "read":
            return "GET", f"{base}/Patient/{patient}", None, kind
        if kind == "search":
            return ("GET", f"{base}/Observation?patient={patient}&code={LOINC}|8867-4&date=ge2025-01-01"
                           f"&_count={SEARCH_COUNT}", None, kind)
        return "POST", base, _news2_bundle(patient, rng), kind
    return make


def _interval(url: str, make, rng: random.Random) -> dict:
    if MODE == "closed":
        return asyncio.run(_load(url, make, CONCURRENCY, INTERVAL))
    host = url.removeprefix("http://").split(":")[0]
    mix = [make(rng) for _ in range(int(RATE * INTERVAL))]
    requests = [_request_bytes(host, method, path, body) for method, path, body, _ in mix]
    paced = asyncio.run(_paced(url, requests, RATE, CONCURRENCY, kinds=[kind for *_, kind in mix]))
    return {"req_per_s": paced.pop("achieved_per_s"), **paced}


def run() -> dict:
    intervals = []
    with loaded_platform(prefix="sandkasse-soak-") as platform:
        make, rng = _mixed(platform.patients, "/0301/fhir"), random.Random("soak")
        started = time.perf_counter()
        while time.perf_counter() - started < SECONDS:
            cpu_before = _cpu_seconds(platform.server.pid)
            result = _interval(platform.url, make, rng)
            result["server_cpu_ms_per_req"] = round((_cpu_seconds(platform.server.pid) - cpu_before)
                                                    / max(result["requests"], 1) * 1000, 2)
            result["rss_mb"] = _rss_mb(platform.server.pid)
            result["wal_mb"] = platform.wal_mb()
            result["load_avg"] = round(os.getloadavg()[0], 1)    # other work on the machine skews figures
            intervals.append(result)
            print(f"  soak {len(intervals) * INTERVAL:>5.0f} s: " + ", ".join(f"{k}={v}" for k, v in result.items()),
                  flush=True)
        wal_end = platform.wal_mb()
    return _summary(intervals, wal_end)


def _summary(intervals: list[dict], wal_end: float) -> dict:
    warm = intervals[1:] or intervals     # the first interval warms caches and compiles profiles
    first, last = intervals[0]["req_per_s"], intervals[-1]["req_per_s"]
    summary = {
        "mode": MODE, "seconds": round(SECONDS), "clients": CONCURRENCY,
        "mix": "/".join(f"{k} {w:.0%}" for k, w in MIX), "search_count": SEARCH_COUNT,
        "requests": sum(i["requests"] for i in intervals), "errors": sum(i["errors"] for i in intervals),
        "req_per_s_by_interval": [i["req_per_s"] for i in intervals],
        "p99_ms_by_interval": [i["p99_ms"] for i in intervals],
        "search_p99_ms_by_interval": [i.get("search_p99_ms") for i in intervals],
        "server_cpu_ms_per_req_by_interval": [i["server_cpu_ms_per_req"] for i in intervals],
        "p50_ms_max": max(i["p50_ms"] for i in warm), "p99_ms_max": max(i["p99_ms"] for i in warm),
        "wal_mb_max": max(i["wal_mb"] for i in intervals), "wal_mb_end": wal_end,
        "load_avg_by_interval": [i["load_avg"] for i in intervals],
        "rss_mb_by_interval": [i["rss_mb"] for i in intervals],
        "rss_mb_after_warmup": warm[0]["rss_mb"], "rss_mb_end": intervals[-1]["rss_mb"],
        "rss_growth_mb_per_min": round((intervals[-1]["rss_mb"] - warm[0]["rss_mb"])
                                       / max((len(intervals) - 1) * INTERVAL / 60, 1e-9), 2),
    }
    if MODE == "closed":
        return summary | {"last_to_first": round(last / first, 2) if first else 0.0,
                          "throughput_held": last >= HELD * first}
    return summary | {"offered_per_s": RATE, "p99_bound_ms": P99_BOUND_MS,
                      "held": all(i["req_per_s"] >= 0.98 * RATE and i["errors"] == 0
                                  and i["p99_ms"] < P99_BOUND_MS for i in intervals)}
