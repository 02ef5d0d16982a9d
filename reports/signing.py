"""Signed reports: an Ed25519 JWS the operator adds to a report, and its verification.

The report stays a readable JSON document. Its `signature` member is a JWS in flattened JSON
serialization (RFC 7515 §7.2.2) with alg EdDSA (RFC 8037) and the operator's key id (the
RFC 7638 thumbprint of the public key) in the protected header. The JWS payload is a small
claims set that binds the report: issuer, issued-at, expires-at, the report id, the SHA-256 of
the report's canonical JSON (everything but `signature`), and the hashes of each section and
each requirement. The whole-report hash makes the signature cover every byte; the section
hashes let `verify` say exactly which part was changed after signing.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from reports.model import Report, canonical_bytes, evidence_digest, sha256_hex

CLAIMS_TYPE = "sandkasse-report-claims+json"
DEFAULT_VALIDITY_DAYS = 365

# Which top-level keys make up each named section; everything else falls in "other".
SECTIONS: dict[str, tuple[str, ...]] = {
    "verdict": ("verdict", "counts"),
    "product": ("product",),
    "dates": ("started", "finished"),
    "attempts": ("attempt", "history"),
    "provenance": ("provenance", "suite_version", "schema_version", "target", "tls_fingerprint"),
    "data_flow": ("data_flow",),
    "evidence": ("evidence_digest",),
}
_UNSIGNED_KEYS = ("signature",)


# --- keys ----------------------------------------------------------------------------------

def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def load_private_key(pem: str | bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the operator key must be an Ed25519 private key")
    return key


def public_jwk(key: Ed25519PublicKey) -> dict:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64(raw)}
    return jwk | {"kid": key_id(jwk), "alg": "EdDSA", "use": "sig"}


def key_id(jwk: dict) -> str:
    """RFC 7638 thumbprint: SHA-256 over the required members, base64url."""
    members = {k: jwk[k] for k in ("crv", "kty", "x")}
    return _b64(bytes.fromhex(sha256_hex(canonical_bytes(members))))


def load_public_keys(text: str) -> dict[str, Ed25519PublicKey]:
    """Public keys by key id, from a PEM public key, a JWK or a JWKS."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the key is not an Ed25519 public key")
        return {public_jwk(key)["kid"]: key}
    document = json.loads(text)
    jwks = document.get("keys", [document])
    keys = {}
    for jwk in jwks:
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or "x" not in jwk:
            continue
        keys[key_id(jwk)] = Ed25519PublicKey.from_public_bytes(_unb64(jwk["x"]))
    if not keys:
        raise ValueError("no Ed25519 public key (PEM, JWK with kty OKP and crv Ed25519, or JWKS) found")
    return keys


# --- signing -------------------------------------------------------------------------------

def sections_of(report: dict) -> dict[str, Any]:
    """Section name → hash, computed from the report document as it is (not re-derived)."""
    mapped = {k for keys in SECTIONS.values() for k in keys}
    hashes = {name: sha256_hex(canonical_bytes({k: report.get(k) for k in keys}))
              for name, keys in SECTIONS.items()}
    other = {k: v for k, v in report.items() if k not in mapped and k not in _UNSIGNED_KEYS
             and k != "requirements"}
    hashes["other"] = sha256_hex(canonical_bytes(other))
    return hashes


def requirement_hashes(report: dict) -> dict[str, str]:
    """Per requirement, over everything but evidence content (which its own sha256 stands for),
    so a changed evidence byte is reported as such and not also as a changed requirement."""
    def without_content(req: dict) -> dict:
        return req | {"evidence": [{k: v for k, v in e.items() if k != "content"} for e in req.get("evidence", [])]}
    return {str(r.get("id")): sha256_hex(canonical_bytes(without_content(r))) for r in report.get("requirements", [])}


def body_sha256(report: dict) -> str:
    return sha256_hex(canonical_bytes({k: v for k, v in report.items() if k not in _UNSIGNED_KEYS}))


def sign(report: Report | dict, key: Ed25519PrivateKey, issuer: str,
         validity: timedelta = timedelta(days=DEFAULT_VALIDITY_DAYS), now: datetime | None = None) -> dict:
    """Return the report document with `signed: true` and the operator's JWS attached."""
    body = report.to_dict() if isinstance(report, Report) else dict(report)
    body.pop("signature", None)
    body["signed"] = True
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    claims = {
        "iss": issuer,
        "sub": (body.get("product") or {}).get("vendor_org"),
        "jti": body.get("id"),
        "iat": int(now.timestamp()),
        "exp": int((now + validity).timestamp()),
        "report_sha256": body_sha256(body),
        "sections": sections_of(body),
        "requirements": requirement_hashes(body),
    }
    header = {"alg": "EdDSA", "kid": public_jwk(key.public_key())["kid"], "cty": CLAIMS_TYPE}
    protected, payload = _b64(canonical_bytes(header)), _b64(canonical_bytes(claims))
    signature = key.sign(f"{protected}.{payload}".encode("ascii"))
    return body | {"signature": {"protected": protected, "payload": payload, "signature": _b64(signature)}}


# --- verification --------------------------------------------------------------------------

@dataclass
class Problem:
    code: str        # unsigned | malformed | unknown-key | bad-signature | changed | evidence | expired | not-yet-valid | revoked | stale
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass
class Verification:
    problems: list[Problem] = field(default_factory=list)
    claims: dict = field(default_factory=dict)
    kid: str | None = None

    @property
    def valid(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"valid": self.valid, "kid": self.kid, "claims": self.claims,
                "problems": [{"code": p.code, "message": p.message} for p in self.problems]}


def verify(report: dict, keys: dict[str, Ed25519PublicKey], now: datetime | None = None,
           operator_status: dict | None = None) -> Verification:
    """Check that `report` is an official report: signed by one of `keys`, unchanged, in date.

    `operator_status` is the operator's record of the report when checked online
    (GET /operator/verify/<id>): its `revoked` ({"at", "reason"}) and `superseded_by` (a newer
    registered product version, which makes the verification stale) count as problems.
    """
    result = Verification()
    envelope = report.get("signature")
    if not envelope:
        result.problems.append(Problem(
            "unsigned", "this report carries no operator signature: it was produced locally "
            "(e.g. in the vendor's CI) and cannot pass as an official verification"))
        return result
    try:
        header = json.loads(_unb64(envelope["protected"]))
        claims = json.loads(_unb64(envelope["payload"]))
        signature = _unb64(envelope["signature"])
    except (KeyError, TypeError, ValueError) as error:
        result.problems.append(Problem("malformed", f"the signature envelope cannot be read ({error})"))
        return result
    result.kid = header.get("kid")
    if header.get("alg") != "EdDSA":
        result.problems.append(Problem("bad-signature", f"algorithm {header.get('alg')!r} is not EdDSA"))
        return result
    key = keys.get(result.kid)
    if key is None:
        given = ", ".join(sorted(keys)) or "none"
        result.problems.append(Problem(
            "unknown-key", f"the report names signing key id {result.kid!r}, but the key given has id "
                           f"{given}: either the key id was changed or the report was signed by another key"))
        return result
    try:
        key.verify(signature, f"{envelope['protected']}.{envelope['payload']}".encode("ascii"))
    except InvalidSignature:
        result.problems.append(Problem(
            "bad-signature", "the signature does not match the signed claims: the signature, its header or "
                             "its claims were changed, or it was not made with this key"))
        return result
    result.claims = claims
    result.problems.extend(_changes(report, claims))
    result.problems.extend(_validity(claims, now or datetime.now(timezone.utc)))
    result.problems.extend(_operator_problems(report, operator_status or {}))
    return result


def _operator_problems(report: dict, status: dict) -> list[Problem]:
    problems = []
    revoked = status.get("revoked")
    if revoked:
        problems.append(Problem(
            "revoked", f"the operator revoked this verification on {revoked.get('at')}"
                       + (f": {revoked['reason']}" if revoked.get("reason") else "")))
    if status.get("superseded_by"):
        product = report.get("product") or {}
        problems.append(Problem(
            "stale", f"{product.get('name')} {status['superseded_by']} has been registered since; this "
                     f"verification of version {product.get('version')} is stale and must be redone"))
    return problems


def _changes(report: dict, claims: dict) -> list[Problem]:
    problems: list[Problem] = []
    if report.get("id") != claims.get("jti"):
        problems.append(Problem("changed", f"the report id {report.get('id')!r} is not the signed id "
                                           f"{claims.get('jti')!r}"))
    problems.extend(_evidence_problems(report))
    now_hashes, signed_hashes = sections_of(report), claims.get("sections", {})
    for name in sorted(set(now_hashes) | set(signed_hashes)):
        if now_hashes.get(name) != signed_hashes.get(name):
            problems.append(Problem("changed", _section_message(name, report)))
    now_reqs, signed_reqs = requirement_hashes(report), claims.get("requirements", {})
    by_id = {str(r.get("id")): r for r in report.get("requirements", [])}
    for req_id in sorted(set(now_reqs) | set(signed_reqs)):
        if req_id not in signed_reqs:
            problems.append(Problem("changed", f"requirement {req_id} was added after signing"))
        elif req_id not in now_reqs:
            problems.append(Problem("changed", f"requirement {req_id} was removed after signing"))
        elif now_reqs[req_id] != signed_reqs[req_id]:
            problems.append(Problem("changed", f"requirement {req_id} was changed after signing "
                                               f"(its status now reads {by_id[req_id].get('status')!r})"))
    if not problems and body_sha256(report) != claims.get("report_sha256"):
        problems.append(Problem("changed", "the report's content differs from what was signed"))
    return problems


def _section_message(name: str, report: dict) -> str:
    if name == "verdict":
        return f"the verdict or its counts were changed after signing (the verdict now reads {report.get('verdict')!r})"
    if name == "dates":
        return (f"the dates were changed after signing (they now read {report.get('started')} – "
                f"{report.get('finished')})")
    if name == "evidence":
        return "the evidence digest was changed after signing"
    if name == "other":
        return "a field outside the named sections (e.g. disclaimer or signed flag) was changed after signing"
    return f"the {name.replace('_', ' ')} section was changed after signing"


def _evidence_problems(report: dict) -> list[Problem]:
    problems = []
    for req in report.get("requirements", []):
        for index, item in enumerate(req.get("evidence", []), start=1):
            actual = sha256_hex(str(item.get("content", "")))
            if actual != item.get("sha256"):
                problems.append(Problem(
                    "evidence", f"evidence item {index} of requirement {req.get('id')} "
                                f"({item.get('label')!r}) does not match its recorded sha256"))
    if report.get("evidence_digest") != evidence_digest(report):
        problems.append(Problem("evidence", "the evidence digest does not match the evidence hashes in the report"))
    return problems


def _validity(claims: dict, now: datetime) -> list[Problem]:
    problems = []
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int) or not isinstance(iat, int):
        return [Problem("malformed", "the signed claims carry no issued-at/expires-at times")]
    if now.timestamp() >= exp:
        problems.append(Problem("expired", f"the verification expired on {_iso(exp)} (issued {_iso(iat)}); "
                                           "the product must be verified again"))
    if now.timestamp() + 300 < iat:   # five minutes for clock skew
        problems.append(Problem("not-yet-valid", f"the report is issued in the future ({_iso(iat)})"))
    return problems


def unverified_envelope(report: dict) -> tuple[dict, dict]:
    """(header, claims) as the report states them, for display only: say so next to them."""
    try:
        envelope = report["signature"]
        return json.loads(_unb64(envelope["protected"])), json.loads(_unb64(envelope["payload"]))
    except (KeyError, TypeError, ValueError):
        return {}, {}


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat().replace("+00:00", "Z")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
