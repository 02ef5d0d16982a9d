"""The operator's records, kept in the platform's kv store.

Namespaces (all under "operator."): vendors (by organisation number), vendor-keys (by the
SHA-256 of a vendor API key: keys are never stored in clear), products (registered versions per
vendor and product), runs (observed runs with their unsigned report), issued (signed reports
with revocation), signing-key (the development signing key when no key file is configured).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app

from reports.signing import generate_key, load_private_key, private_key_pem

NS = "operator."
DEV_ISSUER = "sandkasse marketplace operator (development)"
VERIFIED, STALE, REVOKED, EXPIRED = "verified", "stale", "revoked", "expired"
SESSION_COOKIE = "sandkasse_console"
SESSION_SECONDS = 8 * 3600


def storage():
    return current_app.extensions["sandkasse.storage"]


def now() -> datetime:
    """The operator's clock; tests may set OPERATOR_CLOCK (a callable) to move it."""
    clock = current_app.config.get("OPERATOR_CLOCK")
    return (clock() if clock else datetime.now(timezone.utc)).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


# --- operator credentials and signing key ------------------------------------------------------

def signing_key() -> Ed25519PrivateKey | None:
    """OPERATOR_KEY_FILE (PEM, from `sandkasse operator keygen`); in off-dev mode a key generated
    once and kept in the database, so a development platform can issue without setup."""
    path = current_app.config.get("OPERATOR_KEY_FILE")
    if path:
        return load_private_key(Path(path).read_bytes())
    if current_app.config.get("AUTH_MODE") != "off-dev":
        return None
    store = storage()
    record = store.kv_get(NS + "signing-key", "current")
    if record is None:
        if store.kv_add_if_absent(NS + "signing-key-lock", "current", ttl_seconds=3600 * 24 * 365 * 100):
            store.kv_put(NS + "signing-key", "current", {"pem": private_key_pem(generate_key())})
        record = store.kv_get(NS + "signing-key", "current")
    return load_private_key(record["pem"]) if record else None


def issuer() -> str:
    return current_app.config.get("OPERATOR_ISSUER", DEV_ISSUER)


# --- console sessions (browser pages cannot send bearer tokens) -------------------------------

def new_session(role: str, org: str | None = None) -> tuple[str, dict]:
    """A random session id for the cookie (stored hashed) and a CSRF token for the forms."""
    sid = secrets.token_urlsafe(32)
    record = {"role": role, "org": org, "csrf": secrets.token_urlsafe(24)}
    storage().kv_put(NS + "sessions", hash_key(sid), record, ttl_seconds=SESSION_SECONDS)
    return sid, record


def session(sid: str) -> dict | None:
    return storage().kv_get(NS + "sessions", hash_key(sid))


def end_session(sid: str) -> None:
    storage().kv_delete(NS + "sessions", hash_key(sid))


# --- vendors -----------------------------------------------------------------------------------

def add_vendor(org: str, name: str) -> str | None:
    """Register a vendor; returns its new API key, or None when the vendor exists."""
    store = storage()
    if store.kv_get(NS + "vendors", org) is not None:
        return None
    api_key = "sk_" + secrets.token_urlsafe(32)
    store.kv_put(NS + "vendor-keys", hash_key(api_key), {"org": org})
    store.kv_put(NS + "vendors", org, {"org": org, "name": name, "registered": iso(now())})
    return api_key


def vendor(org: str) -> dict | None:
    return storage().kv_get(NS + "vendors", org)


def vendor_for_key(api_key: str) -> dict | None:
    record = storage().kv_get(NS + "vendor-keys", hash_key(api_key))
    return vendor(record["org"]) if record else None


def vendors() -> list[dict]:
    return list(storage().kv_list(NS + "vendors").values())


# --- products and versions ---------------------------------------------------------------------

def _product_key(org: str, product: str) -> str:
    return f"{org}:{product}"


def register_version(org: str, product: str, version: str) -> dict:
    """Register a product version (idempotent). The last registered version is the current one:
    it makes verifications of earlier versions stale."""
    store = storage()
    record = store.kv_get(NS + "products", _product_key(org, product)) or {
        "org": org, "product": product, "versions": []}
    if version not in [v["version"] for v in record["versions"]]:
        record["versions"].append({"version": version, "registered": iso(now())})
        store.kv_put(NS + "products", _product_key(org, product), record)
    return record


def current_version(org: str, product: str) -> str | None:
    record = storage().kv_get(NS + "products", _product_key(org, product))
    return record["versions"][-1]["version"] if record and record["versions"] else None


# --- runs --------------------------------------------------------------------------------------

def runs(org: str | None = None) -> list[dict]:
    found = [r for r in storage().kv_list(NS + "runs").values() if org is None or r["org"] == org]
    return sorted(found, key=lambda r: (r["recorded"], r["run_id"]))


def run(run_id: str) -> dict | None:
    return storage().kv_get(NS + "runs", run_id)


def earlier_attempts(org: str, product: str, version: str) -> list[dict]:
    return [r for r in runs(org) if r["product"] == product and r["version"] == version]


def save_run(record: dict) -> None:
    storage().kv_put(NS + "runs", record["run_id"], record)


def summary(record: dict) -> dict:
    """A run or issued record without its (large) report."""
    return {k: v for k, v in record.items() if k != "report"}


# --- issued verifications ----------------------------------------------------------------------

def claim_issue(run_id: str) -> bool:
    """Each run is issued at most once, even when two operators click at the same time."""
    return storage().kv_add_if_absent(NS + "issue-claims", run_id, ttl_seconds=3600 * 24 * 365 * 100)


def save_issued(record: dict) -> None:
    storage().kv_put(NS + "issued", record["report_id"], record)


def issued(report_id: str) -> dict | None:
    return storage().kv_get(NS + "issued", report_id)


def all_issued(org: str | None = None) -> list[dict]:
    found = [r for r in storage().kv_list(NS + "issued").values() if org is None or r["org"] == org]
    return sorted(found, key=lambda r: (r["product"], r["issued"]), reverse=False)


@dataclass(frozen=True)
class Status:
    status: str                      # verified | stale | revoked | expired
    superseded_by: str | None        # a newer registered version of the product


def status_of(record: dict) -> Status:
    latest = current_version(record["org"], record["product"])
    superseded = latest if latest and latest != record["version"] else None
    if record.get("revoked"):
        return Status(REVOKED, superseded)
    if parse_iso(record["expires"]) <= now():
        return Status(EXPIRED, superseded)
    return Status(STALE if superseded else VERIFIED, superseded)


def public_status(record: dict) -> dict:
    state = status_of(record)
    return {"report_id": record["report_id"], "status": state.status, "superseded_by": state.superseded_by,
            "revoked": record.get("revoked"), "vendor_org": record["org"], "vendor_name": record.get("vendor_name"),
            "product": record["product"], "version": record["version"], "roles": record.get("roles", []),
            "issued": record["issued"], "expires": record["expires"], "verdict": record.get("verdict")}

