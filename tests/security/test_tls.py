"""HTTPS with the sandbox CA: a client that trusts the CA accepts the valid certificate and
refuses each deliberately invalid one (requirement C6)."""
from __future__ import annotations

import ssl
import threading
from pathlib import Path

import httpx
import pytest
from werkzeug.serving import make_server

from mock_platform import PlatformConfig, create_app
from mock_platform.security import tls


@pytest.fixture(scope="module")
def tls_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tls")


def _serve(kind: str, folder: Path):
    app = create_app(PlatformConfig(database=":memory:", auth="off-dev"))
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=tls.ssl_context(kind, folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture()
def https(tls_folder: Path):
    running = []

    def start(kind: str) -> str:
        server, thread = _serve(kind, tls_folder)
        running.append((server, thread))
        return f"https://localhost:{server.server_address[1]}"

    yield start
    for server, thread in running:
        server.shutdown()
        thread.join(timeout=10)


def _trusting_ca(folder: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(tls.sandbox_ca(folder).cert))


def test_valid_certificate_is_trusted_with_the_sandbox_ca(https, tls_folder: Path) -> None:
    base = https("valid")
    response = httpx.get(f"{base}/0301/fhir/metadata", verify=_trusting_ca(tls_folder))
    assert response.status_code == 200
    assert response.json()["resourceType"] == "CapabilityStatement"
    # ... also by IP address, which the certificate names too.
    port = base.rsplit(":", 1)[1]
    assert httpx.get(f"https://127.0.0.1:{port}/0301/fhir/metadata",
                     verify=_trusting_ca(tls_folder)).status_code == 200


def test_valid_certificate_is_not_trusted_without_the_ca(https) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{https('valid')}/0301/fhir/metadata")


@pytest.mark.parametrize("kind, reason", [("self-signed", "self-signed certificate"),
                                          ("expired", "certificate has expired"),
                                          ("wrong-host", "Hostname mismatch")])
def test_invalid_certificates_are_refused(https, tls_folder: Path, kind: str, reason: str) -> None:
    with pytest.raises(httpx.ConnectError) as refused:
        httpx.get(f"{https(kind)}/0301/fhir/metadata", verify=_trusting_ca(tls_folder))
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)
    assert reason in str(refused.value)


def test_ca_is_created_once_and_reused(tmp_path: Path) -> None:
    first = tls.sandbox_ca(tmp_path).cert.read_bytes()
    tls.server_certificate("valid", tmp_path)
    assert tls.sandbox_ca(tmp_path).cert.read_bytes() == first
    assert oct((tmp_path / "ca-key.pem").stat().st_mode)[-3:] == "600"
    with pytest.raises(ValueError, match="unknown TLS kind"):
        tls.server_certificate("sloppy", tmp_path)
