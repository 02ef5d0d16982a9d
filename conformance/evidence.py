"""Evidence: every request the suite sends to the target, and the answer, recorded per test.

Inferno users can re-inspect each exchange; so can sandkasse's. The log is attached to the
target's httpx client as event hooks, so tests never have to remember to record anything.
Secrets (tokens, DPoP proofs, keys) are redacted with the project's one redaction helper before
anything is kept, and bodies are cut to an excerpt.
"""
from __future__ import annotations

import hashlib
import json
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from conformance.auth.redaction import redact   # the project's one redaction helper

EXCERPT = 4000   # characters of each body kept
KEPT_RESPONSE_HEADERS = ("content-type", "location", "etag", "last-modified", "www-authenticate", "dpop-nonce")


@dataclass
class EvidenceLog:
    folder: Path | None = None                  # None: evidence is not written (the default)
    current: list[dict] | None = None
    nodeid: str | None = None
    written: dict[str, str] = field(default_factory=dict)   # nodeid -> sha256 of its evidence file

    def start(self, nodeid: str) -> None:
        self.nodeid, self.current = nodeid, []

    def hooks(self) -> dict:
        return {"response": [self._record]}

    def _record(self, response: httpx.Response) -> None:
        if self.current is None or self.folder is None:
            return
        request = response.request
        response.read()   # event hooks see the response before its body is read
        self.current.append(redact({
            "request": {"method": request.method, "url": str(request.url),
                        "headers": dict(request.headers), "body": _excerpt(request.content)},
            "response": {"status": response.status_code,
                         "headers": {k: v for k, v in response.headers.items() if k.lower() in KEPT_RESPONSE_HEADERS},
                         "body": _excerpt(response.content)},
        }))

    def finish(self) -> tuple[Path, str] | None:
        """Write this test's exchanges; returns the file and its sha256 (bound into the report)."""
        if self.folder is None or self.nodeid is None or self.current is None:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{safe_name(self.nodeid)}.json"
        data = json.dumps({"test": self.nodeid, "exchanges": self.current}, indent=1, ensure_ascii=False).encode()
        path.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        self.written[self.nodeid] = digest
        self.nodeid, self.current = None, None
        return path, digest


def safe_name(nodeid: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")
    if len(name) > 150:
        name = name[:110] + "_" + hashlib.sha256(nodeid.encode()).hexdigest()[:16]
    return name


def _excerpt(content: bytes) -> str:
    text = content.decode("utf-8", "replace")
    return text if len(text) <= EXCERPT else text[:EXCERPT] + f"… [{len(text) - EXCERPT} more characters]"


def tls_fingerprint(url: str | None) -> str | None:
    """'sha256:<hex>' of an HTTPS target's certificate, so a report names the exact endpoint that
    was verified; None for plain HTTP. Raises OSError when the target cannot be reached."""
    parts = urlsplit(url or "")
    if parts.scheme != "https":
        return None
    pem = ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=10)
    return "sha256:" + hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()
