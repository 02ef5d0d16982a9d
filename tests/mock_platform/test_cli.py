"""`sandkasse serve` and `sandkasse tenant` as a user runs them: real processes over HTTP."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sandbox.cli import main
from tests.mock_platform.fhir import bundle, observation, patient


def _serve(*args: str) -> tuple[subprocess.Popen, str, list[str]]:
    command = [sys.executable, "-m", "sandbox.cli", "serve", "--port", "0", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise AssertionError(f"serve exited: {process.stderr.read()[-2000:]}")
        lines.append(line.rstrip())
        if line.startswith("  admin:"):
            url = re.search(r"sandkasse platform on (\S+)", "\n".join(lines)).group(1)
            return process, url, lines
    process.kill()
    raise AssertionError("serve did not print its base URLs")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_serve_prints_base_urls_and_tenant_command_manages_tenants(tmp_path: Path, capsys) -> None:
    process, url, lines = _serve("--tenant", "0301", "--tenant", "4601", "--database", str(tmp_path / "p.sqlite3"),
                                 "--auth", "off-dev")
    try:
        assert f"  tenant 0301: {url}/0301/fhir   (events: {url}/0301/events)" in lines
        assert any(line.startswith("  tenant 4601:") for line in lines)
        assert httpx.get(f"{url}/0301/fhir/metadata").json()["fhirVersion"] == "4.0.1"
        assert main(["tenant", "--platform", url, "create", "acme-test", "--kommunenummer", "0301"]) == 0
        bundles = tmp_path / "bundles.ndjson"
        bundles.write_text(__import__("json").dumps(bundle(patient("p1"), observation("o1", "p1"))) + "\n")
        assert main(["tenant", "--platform", url, "seed", "acme-test", "--bundles", str(bundles)]) == 0
        assert httpx.get(f"{url}/acme-test/fhir/Observation/o1").status_code == 200
        capsys.readouterr()
        assert main(["tenant", "--platform", url, "list"]) == 0
        listed = capsys.readouterr().out
        assert "acme-test" in listed and f"{url}/acme-test/fhir" in listed and "4601" in listed
        assert main(["tenant", "--platform", url, "reset", "acme-test"]) == 0
        assert httpx.get(f"{url}/acme-test/fhir/Observation/o1").status_code == 404
        assert main(["tenant", "--platform", url, "create", "acme-test"]) == 1     # exists already
    finally:
        _stop(process)


def test_serve_enforces_helseid_by_default_and_the_tenant_command_needs_the_operator_token(tmp_path: Path) -> None:
    process, url, _ = _serve("--database", str(tmp_path / "p.sqlite3"))
    try:
        assert httpx.get(f"{url}/0301/fhir/metadata").status_code == 200          # public, as in FHIR
        refused = httpx.get(f"{url}/0301/fhir/Patient")
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("DPoP")
        assert main(["tenant", "--platform", url, "list"]) == 1                    # dev token refused
    finally:
        _stop(process)


def test_serve_behind_a_proxy_advertises_and_checks_the_public_url(tmp_path: Path) -> None:
    process, url, _ = _serve("--database", str(tmp_path / "p.sqlite3"), "--public-url", "https://sandkasse.example")
    try:
        discovery = httpx.get(f"{url}/helseid/.well-known/openid-configuration").json()
        assert discovery["issuer"].startswith("https://sandkasse.example")
    finally:
        _stop(process)


def test_serve_refuses_a_public_url_that_is_not_a_base_url(capsys) -> None:
    assert main(["serve", "--public-url", "ftp://nowhere"]) == 2
    assert "PUBLIC_BASE_URL" in capsys.readouterr().err


def test_serve_refuses_workers_on_an_in_memory_database(capsys) -> None:
    assert main(["serve", "--workers", "2"]) == 2
    assert "cannot share an in-memory database" in capsys.readouterr().err


@pytest.mark.postgres
def test_gunicorn_workers_share_one_postgresql(postgres_cluster) -> None:
    """Several platform processes serve one PostgreSQL: all state (data, sequence, audit, faults)
    is in the database, so any worker answers for what another one stored."""
    dsn = postgres_cluster.create_schema()
    process, url, lines = _serve("--workers", "2", "--threads", "2", "--database", dsn, "--auth", "off-dev")
    try:
        base = f"{url}/0301/fhir"
        with httpx.Client(timeout=30) as client:
            assert client.post(base, json=bundle(patient("p1"))).status_code == 200
            statuses = [client.post(base, json=bundle(observation(f"o{i}", "p1"))).status_code for i in range(12)]
            assert statuses == [200] * 12
            for _ in range(12):   # fresh connections land on both workers; every one sees all data
                with httpx.Client(timeout=30) as fresh:
                    found = fresh.get(f"{base}/Observation", params={"patient": "p1", "_summary": "count"})
                    assert found.json()["total"] == 12
            events = client.get(f"{url}/0301/events", params={"_count": 100}).json()
            assert [e["seq"] for e in events["events"]] == list(range(1, 14))
            client.put(f"{url}/admin/tenants/0301/faults", json=[{"route": "Patient/*", "kind": "503"}])
            time.sleep(1.1)   # the other worker's tenant cache holds rules for at most one second
            assert all(httpx.get(f"{base}/Patient/p1").status_code == 503 for _ in range(6))
    finally:
        _stop(process)


@pytest.mark.parametrize("kind, trusted", [("valid", True), ("expired", False), ("self-signed", False)])
def test_serve_tls_valid_is_trusted_with_the_sandbox_ca_and_invalid_is_refused(tmp_path: Path, kind: str,
                                                                            trusted: bool) -> None:
    tls_dir = tmp_path / "tls"
    process, url, lines = _serve("--tls", kind, "--tls-dir", str(tls_dir))
    try:
        assert url.startswith("https://")
        assert any(str(tls_dir / "ca.pem") in line for line in lines)
        with httpx.Client(verify=__import__("ssl").create_default_context(cafile=str(tls_dir / "ca.pem"))) as client:
            if trusted:
                assert client.get(f"{url}/0301/fhir/metadata").json()["fhirVersion"] == "4.0.1"
            else:
                with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                    client.get(f"{url}/0301/fhir/metadata")
    finally:
        _stop(process)
