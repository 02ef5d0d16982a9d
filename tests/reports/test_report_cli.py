"""`sandkasse report` and `sandkasse operator`: exit codes and what they print."""
from __future__ import annotations

import json
import stat
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from report_support import OPERATOR_TOKEN, orgnr

from reports.signing import load_private_key, sign
from sandbox.cli import main


@pytest.fixture()
def keydir(tmp_path, capsys):
    assert main(["operator", "keygen", "--out", str(tmp_path / "keys")]) == 0
    capsys.readouterr()
    return tmp_path / "keys"


def _signed_file(tmp_path, report, keydir, **kwargs):
    key = load_private_key((keydir / "operator.key.pem").read_bytes())
    path = tmp_path / "signed.json"
    path.write_text(json.dumps(sign(report, key, issuer="CLI test operator", **kwargs)), encoding="utf-8")
    return path


def test_keygen_writes_a_private_key_only_the_owner_can_read(keydir) -> None:
    mode = stat.S_IMODE((keydir / "operator.key.pem").stat().st_mode)
    assert mode == 0o600
    jwk = json.loads((keydir / "operator.jwk.json").read_text())
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and "d" not in jwk


def test_verify_valid_exits_0(tmp_path, passing_report, keydir, capsys) -> None:
    path = _signed_file(tmp_path, passing_report, keydir)
    for key in ("operator.pub.pem", "operator.jwk.json"):
        assert main(["report", "verify", str(path), "--key", str(keydir / key)]) == 0
        assert capsys.readouterr().out.startswith("VALID: official verification")


def test_verify_tampered_exits_1_and_says_what_changed(tmp_path, passing_report, keydir, capsys) -> None:
    path = _signed_file(tmp_path, passing_report, keydir)
    document = json.loads(path.read_text())
    document["started"] = "2026-01-01T00:00:00Z"
    path.write_text(json.dumps(document))
    assert main(["report", "verify", str(path), "--key", str(keydir / "operator.pub.pem")]) == 1
    err = capsys.readouterr().err
    assert "INVALID" in err and "changed: the dates were changed after signing" in err


def test_verify_expired_and_unsigned_exit_1(tmp_path, passing_report, keydir, capsys) -> None:
    path = _signed_file(tmp_path, passing_report, keydir, validity=timedelta(days=1))
    assert main(["report", "verify", str(path), "--key", str(keydir / "operator.pub.pem"),
                 "--now", "2099-01-01T00:00:00Z"]) == 1
    assert "expired: the verification expired on" in capsys.readouterr().err
    local = tmp_path / "local.json"
    local.write_text(json.dumps(passing_report.to_dict()))
    assert main(["report", "verify", str(local), "--key", str(keydir / "operator.pub.pem")]) == 1
    assert "unsigned: this report carries no operator signature" in capsys.readouterr().err


def test_verify_with_an_unreadable_key_is_a_usage_error(tmp_path, passing_report, keydir, capsys) -> None:
    path = _signed_file(tmp_path, passing_report, keydir)
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    assert main(["report", "verify", str(path), "--key", str(bad)]) == 2
    assert "cannot read the key" in capsys.readouterr().err


def test_render_formats(tmp_path, report, capsys) -> None:
    source = tmp_path / "report.json"
    source.write_text(json.dumps(report.to_dict()))
    assert main(["report", "render", str(source), "--format", "junit", "--out", str(tmp_path / "junit.xml")]) == 0
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.get("failures") == "1"
    assert main(["report", "render", str(source), "--format", "html"]) == 0
    assert "UNSIGNED" in capsys.readouterr().out


def test_operator_workflow_from_the_command_line(operator, tmp_path, passing_report, capsys) -> None:
    base = ["operator", "--url", operator.url, "--token", OPERATOR_TOKEN]
    org = orgnr(21)
    assert main(base + ["vendor-add", org, "Kommandolinje AS"]) == 0
    assert json.loads(capsys.readouterr().out)["api_key"].startswith("sk_")
    source = tmp_path / "report.json"
    source.write_text(json.dumps(passing_report.to_dict()))
    assert main(base + ["record", "--vendor", org, "--product", "CliJournal", "--version", "2.0",
                        "--roles", "source-system,consumer", str(source)]) == 0
    run = json.loads(capsys.readouterr().out)
    assert run["roles"] == ["source-system", "consumer"]
    signed = tmp_path / "signed.json"
    assert main(base + ["issue", run["run_id"], "--days", "30", "--out", str(signed)]) == 0
    capsys.readouterr()
    keys = tmp_path / "jwks.json"
    keys.write_text(operator.call("GET", "/operator/keys", token=None).text)

    verify_online = ["report", "verify", str(signed), "--key", str(keys), "--operator", operator.url]
    assert main(verify_online) == 0
    assert "not revoked" in capsys.readouterr().out
    assert main(base + ["revoke", json.loads(signed.read_text())["id"], "--reason", "key compromise"]) == 0
    capsys.readouterr()
    assert main(verify_online) == 1
    assert "revoked: the operator revoked this verification" in capsys.readouterr().err
    assert main(base + ["issue", "no-such-run"]) == 1
    assert "answered 404" in capsys.readouterr().err


def test_tls_fingerprint_of_an_https_target(tmp_path) -> None:
    """The fingerprint the operator records is the SHA-256 of the certificate the target presents."""
    import datetime as dt
    import hashlib
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from conformance.evidence import tls_fingerprint

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}/fhir"
        expected = "sha256:" + hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
        assert tls_fingerprint(url) == expected
        assert tls_fingerprint("http://127.0.0.1:1/fhir") is None
    finally:
        server.shutdown()
        thread.join(timeout=5)
