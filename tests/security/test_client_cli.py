"""`sandkasse client register`: the key pair is made locally, only the public key is sent, and
the written configuration logs in with HelseIdAuth."""
from __future__ import annotations

import json

import httpx
import pytest

from conformance.auth import HelseIdAuth, HelseIdClientConfig
from sandbox.cli import main
from tests.security.conftest import HTTP, TLS, ORG_BERGEN, READ, SecurePlatform


def _register(platform: SecurePlatform, out, *extra: str) -> int:
    return main(["client", "register", "--platform", platform.url, "--name", "Test-EPJ", "--organisation", ORG_BERGEN,
                 "--scope", READ[0], "--tenant", "0301", "--out", str(out), *extra])


def test_register_with_passphrase_then_log_in(fresh_platform: SecurePlatform, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SANDKASSE_KEY_PASSPHRASE", "korrekt hest batteri stift")
    out = tmp_path / "client.json"
    assert _register(fresh_platform, out, "--passphrase-env", "SANDKASSE_KEY_PASSPHRASE") == 0
    stored = json.loads(out.read_text())
    assert "private_jwk" not in stored and "ENCRYPTED PRIVATE KEY" in stored["private_key_pem"]
    assert "korrekt" not in out.read_text()                    # the passphrase itself is never written
    assert oct(out.stat().st_mode)[-3:] == "600"
    # The platform got only the public key.
    registered = fresh_platform.app.extensions["sandkasse.storage"].kv_get("helseid.clients", stored["client_id"])
    assert not {"d", "p", "q"} & set(registered["jwks"][0])
    # --tenant 0301 registered the Bergen organisation for Oslo's instance, so this call is allowed.
    config = HelseIdClientConfig.load(out)
    with httpx.Client(verify=TLS, auth=HelseIdAuth(config)) as client:
        assert client.get(f"{fresh_platform.fhir('0301')}/Patient/none").status_code == 404


def test_wrong_passphrase_cannot_load_the_key(fresh_platform: SecurePlatform, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PASS", "first")
    out = tmp_path / "client.json"
    assert _register(fresh_platform, out, "--passphrase-env", "PASS") == 0
    monkeypatch.setenv("PASS", "second")
    with pytest.raises(ValueError):
        HelseIdClientConfig.load(out).private_key()


def test_refusal_is_a_clear_usage_error(fresh_platform: SecurePlatform, tmp_path, capsys) -> None:
    code = main(["client", "register", "--platform", fresh_platform.url, "--name", "x", "--organisation",
                 "974760673", "--scope", READ[0], "--out", str(tmp_path / "c.json")])
    assert code == 2
    assert "synthetic organisation numbers" in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()
