"""The validator's entry points. This first version checks only what every resource needs;
the profile-driven engine replaces the body of `Validator.validate` behind the same API."""
from __future__ import annotations

import re
from functools import cache

from conformance.validator.outcome import Issue

_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


class Validator:
    """Compiled once (base R4 plus the guide's profiles); validate() is then cheap."""

    @classmethod
    @cache
    def default(cls) -> "Validator":
        return cls()

    def validate(self, resource: object, profile: str | None = None) -> list[Issue]:
        if not isinstance(resource, dict):
            return [Issue("error", "structure", "A FHIR resource must be a JSON object.", "",
                          fix="Send a JSON object with a resourceType.")]
        rtype = resource.get("resourceType")
        if not isinstance(rtype, str) or not rtype:
            return [Issue("error", "required", "The resource has no resourceType.", "",
                          fix='Add "resourceType", e.g. "Patient".')]
        issues = []
        rid = resource.get("id")
        if rid is not None and (not isinstance(rid, str) or not _ID.match(rid)):
            issues.append(Issue("error", "value", f"Invalid id {rid!r}.", f"{rtype}.id",
                                fix="Use 1–64 characters from A–Z, a–z, 0–9, '-' and '.'."))
        return issues


def validate(resource: object, profile: str | None = None) -> list[Issue]:
    return Validator.default().validate(resource, profile)
