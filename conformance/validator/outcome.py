"""Issues and OperationOutcomes: the one shape every error in sandkasse takes.

An issue says where (a FHIRPath expression), what is wrong, which rule, and how to fix it. The
fix travels both in `diagnostics` (so every FHIR client shows it) and in a dedicated extension
(so tools can read it without parsing text).
"""
from __future__ import annotations

from dataclasses import dataclass

FIX_EXTENSION = "https://sandkasse.no/fhir/StructureDefinition/fix-hint"
RULE_SYSTEM = "https://sandkasse.no/fhir/CodeSystem/rule"


@dataclass(frozen=True)
class Issue:
    severity: str          # fatal | error | warning | information
    code: str              # FHIR issue-type: invalid, structure, required, value, not-found, forbidden, ...
    message: str
    expression: str | None = None
    rule: str | None = None
    fix: str | None = None

    def to_fhir(self) -> dict:
        issue: dict = {"severity": self.severity, "code": self.code,
                       "details": {"text": self.message}}
        if self.rule:
            issue["details"]["coding"] = [{"system": RULE_SYSTEM, "code": self.rule}]
        if self.fix:
            issue["diagnostics"] = f"Fix: {self.fix}"
            issue["extension"] = [{"url": FIX_EXTENSION, "valueString": self.fix}]
        if self.expression:
            issue["expression"] = [self.expression]
        return issue


def operation_outcome(issues: list[Issue] | tuple[Issue, ...]) -> dict:
    if not issues:
        issues = [Issue("information", "informational", "No issues detected.")]
    return {"resourceType": "OperationOutcome", "issue": [i.to_fhir() for i in issues]}


def is_error(issue: Issue) -> bool:
    return issue.severity in ("fatal", "error")
