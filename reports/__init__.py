"""Verification reports. A leaf: imports nothing from the other sandkasse packages."""
from reports.model import (DECLARED, FAILED, NOT_APPLICABLE, PASSED, SCHEMA_VERSION, Attempt, DataFlow, Evidence,
                           Product, Provenance, Report, RequirementResult)
from reports.render import to_html, to_json, to_junit, write

__all__ = ["DECLARED", "FAILED", "NOT_APPLICABLE", "PASSED", "SCHEMA_VERSION", "Attempt", "DataFlow", "Evidence",
           "Product", "Provenance", "Report", "RequirementResult", "to_html", "to_json", "to_junit", "write"]
