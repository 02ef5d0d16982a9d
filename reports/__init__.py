"""Verification reports. A leaf: imports nothing from the other sandkasse packages."""
from reports.model import DECLARED, FAILED, NOT_APPLICABLE, PASSED, Report, RequirementResult
from reports.render import to_html, to_json, write

__all__ = ["DECLARED", "FAILED", "NOT_APPLICABLE", "PASSED", "Report", "RequirementResult",
           "to_html", "to_json", "write"]
