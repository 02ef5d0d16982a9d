"""Kill the platform (SIGKILL) in the middle of intake under load, restart it, and check that every
acknowledged Bundle is there whole and no unacknowledged Bundle is there in part."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.mock_platform.fhir import bundle, observation, patient

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 4


def _start(database: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "tests.robustness.platform_process", database],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = process.stdout.readline().strip()
    assert url.startswith("http://"), "the platform process did not start"
    return process, url


def _bundles(count: int) -> list[dict]:
    """Small all-or-nothing units: a patient and three measurements each."""
    return [bundle(patient(f"p{i}", i), *(observation(f"o{i}-{n}", f"p{i}", value=60 + n) for n in range(3)))
            for i in range(count)]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_sigkill_during_intake_loses_no_acknowledged_bundle(tmp_path: Path, backend: str,
                                                           request: pytest.FixtureRequest) -> None:
    database = (str(tmp_path / "crash.sqlite3") if backend == "sqlite"
                else request.getfixturevalue("postgres_cluster").create_schema())
    bundles = _bundles(300)
    process, url = _start(database)
    acknowledged: set[int] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def writer(indices: range) -> None:
        with httpx.Client(timeout=5.0) as client:
            for index in indices:
                if stop.is_set():
                    return
                try:
                    response = client.post(f"{url}/0301/fhir", json=bundles[index])
                except httpx.HTTPError:
                    return  # the server died under us: this bundle was not acknowledged
                if response.status_code == 200:
                    with lock:
                        acknowledged.add(index)

    per_writer = len(bundles) // WRITERS
    threads = [threading.Thread(target=writer, args=(range(i * per_writer, (i + 1) * per_writer),))
               for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    while len(acknowledged) < 40:  # kill once intake is well under way
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    stop.set()
    for thread in threads:
        thread.join()

    process, url = _start(database)
    try:
        with httpx.Client(base_url=f"{url}/0301/fhir/", timeout=5.0) as client:
            whole, absent = 0, 0
            for index, bundle in enumerate(bundles):
                present = [client.get(f"{e['resource']['resourceType']}/{e['resource']['id']}").status_code == 200
                           for e in bundle["entry"]]
                if index in acknowledged:
                    assert all(present), f"acknowledged bundle {index} is not complete after the crash"
                assert all(present) or not any(present), f"bundle {index} was stored in part"
                whole += all(present)
                absent += not any(present)
    finally:
        process.kill()
        process.wait()
    print(f"\ncrash safety ({backend}): {len(acknowledged)} acknowledged, {whole} whole, {absent} absent, 0 partial")
    assert whole >= len(acknowledged)
