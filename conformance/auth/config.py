"""A HelseID client's configuration file (client.json), written by `sandkasse client register`.

The private key stays on the vendor's side. It is stored either as a plain JWK (for throwaway
sandbox clients) or, when a passphrase is given, as an encrypted PKCS#8 PEM; the passphrase
itself is never written, only the name of the environment variable that holds it.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import ECKey, RSAKey

from conformance.auth.dpop import Key


@dataclass
class HelseIdClientConfig:
    issuer: str                                  # e.g. http://127.0.0.1:8080/helseid
    client_id: str
    scopes: list[str]                            # e.g. ["nhn:sandkasse-plattform/kommunale-tjenester.read"]
    organisation: dict = field(default_factory=dict)   # {"parent": orgnr, "child": orgnr | None}
    tenancy: str = "single"                      # single | multi (HelseID client_tenancy)
    token_endpoint: str | None = None            # None: read from the discovery document
    private_jwk: dict | None = None              # unencrypted private key, or ...
    private_key_pem: str | None = None           # ... an encrypted PKCS#8 PEM
    passphrase_env: str | None = None            # environment variable holding the PEM passphrase

    def private_key(self) -> Key:
        if self.private_jwk is not None:
            kty = self.private_jwk.get("kty")
            return (RSAKey if kty == "RSA" else ECKey).import_key(self.private_jwk)
        if self.private_key_pem is None:
            raise ValueError("client config has neither private_jwk nor private_key_pem")
        passphrase = os.environ.get(self.passphrase_env or "")
        if not passphrase:
            raise ValueError(f"set the passphrase of the private key in ${self.passphrase_env}")
        pem = self.private_key_pem.encode()
        loaded = serialization.load_pem_private_key(pem, passphrase.encode())
        return (RSAKey if isinstance(loaded, rsa.RSAPrivateKey) else ECKey).import_key(loaded)

    @staticmethod
    def encrypt_key(key: Key, passphrase: str) -> str:
        private = key.private_key
        return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.BestAvailableEncryption(passphrase.encode())).decode()

    def save(self, path: Path) -> None:
        body = {k: v for k, v in asdict(self).items() if v is not None}
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        path.chmod(0o600)  # the file holds a private key (possibly encrypted): owner only

    @classmethod
    def load(cls, path: Path | str) -> "HelseIdClientConfig":
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))
