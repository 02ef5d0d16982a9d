"""The platform under load: gunicorn workers on SQLite (the default), a real load generator over
localhost with 32 concurrent keep-alive clients.

Figures: read by id, a typical search (patient + code + date), intake of valid transaction
Bundles (a NEWS2 measurement set: 7 vital signs and the score), each measured two ways:

- closed loop (`<name>_req_per_s`, `_p50_ms`, `_p99_ms`): 32 clients each send their next request
  as soon as the last one is answered, so the figure is the platform's maximum throughput; its
  latency is then clients / throughput by Little's law, whatever the platform does.
- paced, open loop (`<name>_paced_*`): 32 connections that together offer exactly the target rate
  of issue 5 (read 1,500/s, search 500/s, intake 200/s) on a fixed schedule; latency is measured
  from each request's scheduled send time, so time spent queueing for a busy connection counts.
  This is what "p99 < 50 ms at the target rate" means.

`<name>_target_met` is computed from the paced figures: achieved at least 98 % of the target
rate, p99 under 50 ms, no errors. `<name>_max_met`: the closed-loop maximum reaches the target.
The load generator is a small asyncio HTTP/1.1 client (raw sockets, keep-alive, request bytes
built before the clock starts), far cheaper per request than the server; it shares the machine's
two cores with the server, as a real client on the same host would.

    .venv/bin/python -m bench.run --only platform
    BENCH_SECONDS=10 BENCH_WORKERS=2 BENCH_PATIENTS=100 ... (environment overrides)
    BENCH_DATABASE=postgres ...      # the hosted mode: a scratch PostgreSQL cluster on this machine,
                                     # with its durable defaults (fsync, synchronous commits)
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

CONCURRENCY = 32
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "100"))
DATABASE = os.environ.get("BENCH_DATABASE", "sqlite")        # sqlite | postgres
LOINC = "http://loinc.org"
TARGETS = {"read": 1500.0, "search": 500.0, "intake": 200.0}   # requests/s, issue 5
P99_TARGET_MS = 50.0


@dataclass
class LoadedPlatform:
    server: subprocess.Popen
    url: str
    patients: list[str]
    seed_bundles_per_s: float
    database: str

    def wal_mb(self) -> float:
        """The size of the SQLite write-ahead log now (0 on PostgreSQL)."""
        wal = Path(self.database + "-wal")
        return round(wal.stat().st_size / 1e6, 1) if wal.exists() else 0.0


@contextmanager
def _database(folder: str) -> Iterator[str]:
    """A SQLite file in `folder`, or a fresh database in a scratch PostgreSQL cluster."""
    if DATABASE != "postgres":
        yield str(Path(folder) / "platform.sqlite3")
        return
    from tests.pg import start_cluster      # the tests' scratch cluster, with durable settings
    cluster = start_cluster(durable=True)
    try:
        yield cluster.create_database()
    finally:
        cluster.stop()


@contextmanager
def loaded_platform(prefix: str = "sandkasse-bench-") -> Iterator[LoadedPlatform]:
    """gunicorn workers on a SQLite file (or PostgreSQL), seeded with a cohort of PATIENTS;
    stopped afterwards."""
    from synthetic_data import CohortSpec, write_cohort
    with tempfile.TemporaryDirectory(prefix=prefix) as folder, _database(folder) as database:
        cohort = Path(folder) / "cohort"
        write_cohort(CohortSpec(size=PATIENTS, seed=42), cohort)
        server, url = _start(database)
        try:
            started = time.perf_counter()
            seeded = httpx.post(f"{url}/admin/tenants/0301/seed", content=(cohort / "bundles.ndjson").read_bytes(),
                                timeout=600).raise_for_status().json()
            rate = round(seeded["loaded_bundles"] / (time.perf_counter() - started), 1)
            patients = [json.loads(line)["id"] for line in (cohort / "Patient.ndjson").open(encoding="utf-8")]
            yield LoadedPlatform(server, url, patients, rate, database)
        finally:
            server.terminate()
            server.wait(timeout=30)


def run() -> dict:
    figures: dict = {"load_avg_start": round(os.getloadavg()[0], 1), "database": DATABASE}
    with loaded_platform() as platform:
        patients, base = platform.patients, "/0301/fhir"
        figures |= {"workers": WORKERS, "threads": THREADS, "clients": CONCURRENCY, "seconds_per_scenario": SECONDS,
                    "patients": len(patients), "seed_bundles_per_s": platform.seed_bundles_per_s}
        scenarios = {
            "read": lambda rng: ("GET", f"{base}/Patient/{rng.choice(patients)}", None),
            "search": lambda rng: ("GET", f"{base}/Observation?patient={rng.choice(patients)}"
                                          f"&code={LOINC}|8867-4&date=ge2025-01-01&_count=50", None),
            "intake": lambda rng: ("POST", base, _news2_bundle(rng.choice(patients), rng)),
        }
        host = platform.url.removeprefix("http://").split(":")[0]
        for name, make in scenarios.items():
            cpu_before = _cpu_seconds(platform.server.pid)
            result = asyncio.run(_load(platform.url, make, CONCURRENCY, SECONDS))
            cpu = _cpu_seconds(platform.server.pid) - cpu_before
            # CPU the platform spent per request: what the machine could serve per core if the
            # platform had it to itself (a figure that does not depend on other load).
            result["server_cpu_ms_per_req"] = round(cpu / max(result["requests"], 1) * 1000, 2)
            figures |= {f"{name}_{k}": v for k, v in result.items()}
            rate = TARGETS[name]
            rng = random.Random(f"paced-{name}")
            requests = [_request_bytes(host, *make(rng)) for _ in range(int(rate * SECONDS))]
            paced = asyncio.run(_paced(platform.url, requests, rate, CONCURRENCY))
            figures |= {f"{name}_paced_{k}": v for k, v in paced.items()}
            figures[f"{name}_max_met"] = result["req_per_s"] >= rate
            figures[f"{name}_target_met"] = (paced["achieved_per_s"] >= 0.98 * rate
                                             and paced["p99_ms"] < P99_TARGET_MS and paced["errors"] == 0)
        figures["targets_met"] = all(figures[f"{name}_target_met"] for name in scenarios)
        figures["wal_mb_end"] = platform.wal_mb()
    # What the load generator and the machine add by themselves: the same paced schedule against a
    # server that answers at once. A p99 here well above a few ms means other work on the machine
    # (load_avg) is stalling the generator, and the platform's paced p99 is inflated as much.
    figures["generator_paced_p99_ms"] = _generator_baseline(TARGETS["read"])["p99_ms"]
    figures["load_avg_end"] = round(os.getloadavg()[0], 1)
    return figures


_ECHO_SERVER = """
import asyncio
async def handle(reader, writer):
    try:
        while True:
            await reader.readuntil(b"\\r\\n\\r\\n")
            writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\n{}")
    except Exception:
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


def _generator_baseline(rate: float, seconds: float = 3.0) -> dict:
    """The paced generator against a server that answers every request at once, in its own process."""
    server = subprocess.Popen([sys.executable, "-c", _ECHO_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        requests = [_request_bytes("127.0.0.1", "GET", "/", None)] * int(rate * seconds)
        return asyncio.run(_paced(f"http://127.0.0.1:{port}", requests, rate, CONCURRENCY))
    finally:
        server.kill()
        server.wait()


def _start(database: str) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "sandbox.cli", "serve", "--port", "0", "--workers", str(WORKERS),
               "--threads", str(THREADS), "--database", database, "--tenant", "0301",
               # The load generator measures the platform's FHIR engine, so it runs without HelseID.
               "--auth", "off-dev"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        match = re.match(r"sandkasse platform on (http://\S+)", line)
        if match:
            return server, match.group(1)
        if server.poll() is not None:
            break
    server.kill()
    raise RuntimeError("the platform did not start")


def _cpu_seconds(root: int) -> float:
    """User + system CPU seconds of a process and its children (the gunicorn workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == root or ppid == root:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _news2_bundle(patient: str, rng: random.Random) -> bytes:
    """What an EPJ sends after a NEWS2 round: seven vital signs and the score, in one transaction."""
    when = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z"
    subject = {"reference": f"Patient/{patient}"}
    vital = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                          "code": "vital-signs"}]}]
    resources = []
    for code, unit, value in (("9279-1", "/min", 18), ("59408-5", "%", 96), ("8867-4", "/min", 80),
                              ("8310-5", "Cel", 37.2), ("8480-6", "mm[Hg]", 130), ("8462-4", "mm[Hg]", 80),
                              ("9269-2", "{score}", 14)):
        resources.append({"resourceType": "Observation", "id": uuid.uuid4().hex, "status": "final",
                          "category": vital, "code": {"coding": [{"system": LOINC, "code": code}]},
                          "subject": subject, "effectiveDateTime": when,
                          "valueQuantity": {"value": value + rng.randint(-3, 3), "unit": unit,
                                            "system": "http://unitsofmeasure.org", "code": unit}})
    resources.append({"resourceType": "Observation", "id": uuid.uuid4().hex, "status": "final",
                      "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                                "code": "survey"}]}],
                      "code": {"coding": [{"system": "https://sandkasse.no/fhir/CodeSystem/news2", "code": "total"}]},
                      "subject": subject, "effectiveDateTime": when, "valueInteger": rng.randint(0, 8),
                      "derivedFrom": [{"reference": f"Observation/{r['id']}"} for r in resources]})
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"urn:uuid:{r['id']}", "resource": r,
         "request": {"method": "PUT", "url": f"Observation/{r['id']}"}} for r in resources]}
    return json.dumps(bundle).encode()


# The load generator ------------------------------------------------------------------------------

def _request_bytes(host: str, method: str, path: str, body: bytes | None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n"
    if body is not None:
        head += f"Content-Type: application/fhir+json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + (body or b"")


def _percentiles(latencies: list[float]) -> dict:
    latencies = sorted(latencies)

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1) if latencies else 0.0
    return {"p50_ms": pct(0.50), "p99_ms": pct(0.99)}


async def _load(url: str, make, clients: int, seconds: float) -> dict:
    """Closed loop: each client sends its next request when the last one is answered. `make(rng)`
    gives (method, path, body) or (method, path, body, kind); with kinds, each kind also gets its
    own rate and p50/p99 (`<kind>_per_s`, `<kind>_p99_ms`)."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors = [0]
    stop_at = time.perf_counter() + seconds

    async def client(index: int) -> None:
        rng = random.Random(index)
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < stop_at:
                method, path, body, *kind = make(rng)
                request = _request_bytes(host, method, path, body)
                started = time.perf_counter()
                ok, reader, writer = await _exchange(reader, writer, request, host, port)
                latencies.append(time.perf_counter() - started)
                if kind:
                    by_kind.setdefault(kind[0], []).append(latencies[-1])
                errors[0] += not ok
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    figures = {"req_per_s": round(len(latencies) / elapsed, 1), **_percentiles(latencies),
               "requests": len(latencies), "errors": errors[0]}
    return figures | _per_kind(by_kind, elapsed)


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes, host: str,
                    port: str) -> tuple[bool, asyncio.StreamReader, asyncio.StreamWriter]:
    """Send one request and read its answer: (answered 2xx, and the connection to use next, a new
    one when the server closed this one)."""
    writer.write(request)
    status, closing = await _response(reader)
    if closing:
        writer.close()
        reader, writer = await asyncio.open_connection(host, int(port))
    return 200 <= status < 300, reader, writer


async def _paced(url: str, requests: list[bytes], rate: float, connections: int,
                 kinds: list[str] | None = None) -> dict:
    """Open loop: request i is due at start + i / rate, whoever is free sends it; its latency runs
    from when it was due (so waiting for a free connection counts, as it would for a real caller).
    With `kinds` (one per request), each kind also gets its own rate and p50/p99."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors = [0]
    late = [0]                         # sent more than 10 ms after they were due: no connection free
    next_index = [0]
    opened = [await asyncio.open_connection(host, int(port)) for _ in range(connections)]
    start = time.perf_counter() + 0.05

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while next_index[0] < len(requests):
                index = next_index[0]
                next_index[0] += 1
                due = start + index / rate
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                elif wait < -0.010:
                    late[0] += 1
                ok, reader, writer = await _exchange(reader, writer, requests[index], host, port)
                latencies.append(time.perf_counter() - due)
                if kinds is not None:
                    by_kind.setdefault(kinds[index], []).append(latencies[-1])
                errors[0] += not ok
        finally:
            writer.close()

    await asyncio.gather(*(connection(r, w) for r, w in opened))
    elapsed = time.perf_counter() - start
    figures = {"offered_per_s": rate, "achieved_per_s": round(len(latencies) / elapsed, 1),
               **_percentiles(latencies), "requests": len(latencies), "errors": errors[0], "late": late[0]}
    return figures | _per_kind(by_kind, elapsed)


def _per_kind(by_kind: dict[str, list[float]], elapsed: float) -> dict:
    figures: dict = {}
    for kind, values in sorted(by_kind.items()):
        figures[f"{kind}_per_s"] = round(len(values) / elapsed, 1)
        figures |= {f"{kind}_{k}": v for k, v in _percentiles(values).items()}
    return figures


async def _response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status, headers.get("connection", "").lower() == "close"


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
