"""Primitive values: strict JSON types, the exact R4 regexes, and real calendar validity.

The regexes come from the compiled core table (the `regex` extension on each primitive's value
element); this module only adds what a regex cannot say: the JSON type, integer ranges and that
2013-02-30 is not a day.
"""
from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable

# A checker returns None when the value is fine, else (rule, message) for the caller to locate.
Problem = tuple[str, str] | None
Checker = Callable[[object], Problem]

_INT32 = (-2**31, 2**31 - 1)
_DATE_PART = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
# Strings whose regex only forbids emptiness: skip the regex (it is the hot path).
_TRIVIAL = {"string", "markdown", "xhtml"}

EXAMPLES = {
    "boolean": "true", "integer": "72", "decimal": "36.5", "positiveInt": "1", "unsignedInt": "0",
    "date": "2013-03-13", "dateTime": "2013-03-13T10:15:00+01:00", "instant": "2013-03-13T10:15:00.000+01:00",
    "time": "10:15:00", "id": "a-1.b", "code": "active", "oid": "urn:oid:2.16.578.1.12.4.1.4.1",
    "uuid": "urn:uuid:6f1c2a8e-51d4-4a57-9a0c-5a1d0c0f2e11", "base64Binary": "aGVsbG8=",
    "string": "tekst", "uri": "https://sandkasse.no", "url": "https://sandkasse.no",
    "canonical": "https://sandkasse.no/fhir/StructureDefinition/sk-patient", "markdown": "tekst",
    "xhtml": '<div xmlns="http://www.w3.org/1999/xhtml">tekst</div>',
}


def _calendar_ok(text: str) -> bool:
    m = _DATE_PART.match(text)
    if not m or not m.group(3):
        return True
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def make_checker(name: str, spec: dict) -> Checker:
    """One closure per primitive type, built once when the core table is loaded."""
    json_type = spec["json"]
    regex = re.compile(spec["regex"]) if spec.get("regex") and name not in _TRIVIAL else None
    example = EXAMPLES.get(name, "")

    if json_type == "boolean":
        def check(value: object) -> Problem:
            if value is True or value is False:
                return None
            return "json-type", f"expected a JSON boolean (true or false), got {value!r}"
        return check

    if json_type == "number":
        integer = name != "decimal"
        low = {"positiveInt": 1, "unsignedInt": 0}.get(name, _INT32[0])

        def check(value: object) -> Problem:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return "json-type", f"expected a JSON number for {name}, got {value!r}"
            if integer and not isinstance(value, int):
                return "json-type", f"expected a whole number for {name}, got {value!r}"
            if not integer and not math.isfinite(value):
                return "format", f"{value!r} is not a finite decimal"
            if integer and not low <= value <= _INT32[1]:
                return "format", f"{value} is outside the range of {name}"
            return None
        return check

    seen: set[str] = set()  # values already found valid: codes, systems and URLs repeat a lot

    def check(value: object) -> Problem:
        if type(value) is str and value in seen:
            return None
        problem = _check_string(value)
        if problem is None and len(seen) < 50_000:
            seen.add(value)
        return problem

    def _check_string(value: object) -> Problem:
        if not isinstance(value, str):
            return "json-type", f"expected a JSON string for {name}, got {value!r}"
        if not value or (not value.strip() and name != "xhtml"):
            return "empty-string", "empty strings are not allowed in FHIR"
        if regex is not None and not regex.fullmatch(value):
            return "format", f"{value!r} is not a valid {name} (e.g. {example})"
        if name in ("date", "dateTime", "instant") and not _calendar_ok(value):
            return "calendar", f"{value!r} is not a real calendar date"
        if name == "xhtml" and not value.lstrip().startswith("<div"):
            return "format", "narrative must be an XHTML <div> element"
        return None
    return check
