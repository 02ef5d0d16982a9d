"""The verification report: what was verified, against what, and with which result.

The model is versioned (SCHEMA_VERSION) and described field by field in
reports/schema/report.schema.json; a test validates generated reports against that schema.
Every field added after 0.1 has a default, so older producers (the pytest plugin) keep working.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field, fields
from typing import Any

SCHEMA_VERSION = "1.0"
DISCLAIMER = ("Verification in sandkasse does not move the vendor's responsibility for meeting the "
              "ecosystem's requirements, and the marketplace carries no liability for the solution.")

PASSED, FAILED, NOT_APPLICABLE, DECLARED = "passed", "failed", "not-applicable", "declared"
STATUSES = (PASSED, FAILED, NOT_APPLICABLE, DECLARED)
VERIFIED, NOT_VERIFIED = "verified", "not verified"


def canonical_bytes(value: Any) -> bytes:
    """The one byte form that is hashed and signed: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


@dataclass
class Evidence:
    """One excerpt that supports a result (a request, a response, a validator message).

    The suite redacts it before it gets here. `sha256` is the hash of `content` (UTF-8), taken
    when the evidence is recorded; a signed report binds these hashes, so any changed byte shows.
    """
    label: str                       # e.g. "GET Patient?identifier=…", "response 200"
    content: str
    media_type: str = "text/plain"
    sha256: str = ""

    def __post_init__(self) -> None:
        if not self.sha256:
            self.sha256 = sha256_hex(self.content)


@dataclass
class RequirementResult:
    id: str
    title: str
    level: str                      # SHALL | SHOULD | MAY
    status: str                     # passed | failed | not-applicable | declared
    tests: list[str] = field(default_factory=list)
    message: str | None = None      # for failures: what is wrong
    fix: str | None = None          # for failures: what to change
    area: str | None = None         # requirement area: exchange, integration, security, privacy, patient-safety
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Product:
    """What was verified: the vendor (qualified by organisation number) and the exact build."""
    vendor_org: str | None = None   # organisation number, 9 digits
    vendor_name: str | None = None
    name: str | None = None
    version: str | None = None      # exact version or build
    roles: list[str] = field(default_factory=list)  # e.g. "source-system", "consumer"


@dataclass
class Provenance:
    """Against what it was verified, so that the run can be reproduced."""
    ig_package: str | None = None
    ig_version: str | None = None
    ig_sha256: str | None = None
    catalog_sha256: str | None = None       # hash of the requirement catalog used
    cohort_seed: int | None = None
    cohort_generator_version: str | None = None
    cohort_sha256: str | None = None


@dataclass
class Attempt:
    """An earlier verification attempt of the same product version."""
    number: int
    started: str
    finished: str
    verdict: str
    run_id: str | None = None
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class DataFlow:
    """One line of the observed data flow: who read or wrote which resource type, how often."""
    client: str
    resource_type: str
    direction: str                  # read | write
    count: int = 1


@dataclass
class Report:
    target: str
    suite_version: str
    started: str
    finished: str
    requirements: list[RequirementResult]
    schema_version: str = SCHEMA_VERSION
    signed: bool = False
    disclaimer: str = DISCLAIMER
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    product: Product = field(default_factory=Product)
    provenance: Provenance = field(default_factory=Provenance)
    tls_fingerprint: str | None = None      # "sha256:…" of the target's certificate, for HTTPS
    attempt: int = 1
    history: list[Attempt] = field(default_factory=list)
    data_flow: list[DataFlow] = field(default_factory=list)
    # The JWS (flattened JSON serialization) an operator adds when issuing; None for local reports.
    signature: dict | None = None

    @property
    def verdict(self) -> str:
        """Verified only when no SHALL requirement failed."""
        failed = any(r.status == FAILED and r.level == "SHALL" for r in self.requirements)
        return NOT_VERIFIED if failed else VERIFIED

    @property
    def counts(self) -> dict[str, int]:
        counts = {status: 0 for status in STATUSES}
        for result in self.requirements:
            counts[result.status] = counts.get(result.status, 0) + 1
        return counts

    def to_dict(self) -> dict:
        body = asdict(self) | {"verdict": self.verdict, "counts": self.counts}
        return body | {"evidence_digest": evidence_digest(body)}

    @classmethod
    def from_dict(cls, data: dict) -> "Report":
        """Inverse of to_dict. Derived keys (verdict, counts, evidence_digest) are recomputed,
        so use reports.signing.verify, not this, to find out whether a file was changed."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["requirements"] = [
            RequirementResult(**{**r, "evidence": [Evidence(**e) for e in r.get("evidence", [])]})
            for r in data.get("requirements", [])]
        kwargs["product"] = Product(**data.get("product") or {})
        kwargs["provenance"] = Provenance(**data.get("provenance") or {})
        kwargs["history"] = [Attempt(**a) for a in data.get("history", [])]
        kwargs["data_flow"] = [DataFlow(**d) for d in data.get("data_flow", [])]
        return cls(**kwargs)


def evidence_digest(report: dict) -> str:
    """One hash over every evidence hash, in requirement order: the report's evidence fingerprint."""
    items = [[r.get("id"), i, e.get("sha256")]
             for r in report.get("requirements", []) for i, e in enumerate(r.get("evidence", []))]
    return sha256_hex(canonical_bytes(items))
