"""The verification report: what was verified, against what, and with which result."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

SCHEMA_VERSION = "0.1"
DISCLAIMER = ("Verification in sandkasse does not move the vendor's responsibility for meeting the "
              "ecosystem's requirements, and the marketplace carries no liability for the solution.")

PASSED, FAILED, NOT_APPLICABLE, DECLARED = "passed", "failed", "not-applicable", "declared"


@dataclass
class RequirementResult:
    id: str
    title: str
    level: str                      # SHALL | SHOULD | MAY
    status: str                     # passed | failed | not-applicable | declared
    tests: list[str] = field(default_factory=list)
    message: str | None = None      # for failures: what is wrong
    fix: str | None = None          # for failures: what to change


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

    @property
    def verdict(self) -> str:
        """Verified only when no SHALL requirement failed."""
        failed = any(r.status == FAILED and r.level == "SHALL" for r in self.requirements)
        return "not verified" if failed else "verified"

    def to_dict(self) -> dict:
        return asdict(self) | {"verdict": self.verdict}
