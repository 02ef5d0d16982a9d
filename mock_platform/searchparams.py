"""The search-parameter registry (data/search_parameters.toml) and what it extracts from a resource.

The registry is read once. For each stored resource version the platform extracts index rows
(tokens and references, date ranges) and the patient it belongs to; searches then run on those
rows in the database instead of on JSON.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str                      # token | reference | date | string
    paths: tuple[str, ...]


@dataclass(frozen=True)
class TypeInfo:
    name: str
    service: str
    patient_path: str | None       # "self", a dotted path to a Reference, or None (shared data)
    params: dict[str, SearchParam]


@cache
def registry() -> dict[str, TypeInfo]:
    raw = tomllib.loads(files("mock_platform.data").joinpath("search_parameters.toml").read_text("utf-8"))
    return {name: TypeInfo(name, body.get("service", ""), body.get("patient"),
                           {p: SearchParam(p, spec["type"], tuple(spec["paths"]))
                            for p, spec in body.get("params", {}).items()})
            for name, body in raw.items()}


# Resources of this type are written by the platform itself (the audit log), never by clients.
PLATFORM_WRITTEN = ("AuditEvent",)


def served_types() -> tuple[str, ...]:
    return (*registry(), *PLATFORM_WRITTEN)


# Values ----------------------------------------------------------------------------------------

def values_at(resource: dict, path: str) -> list:
    """Every value at a dotted path, flattening lists on the way."""
    current: list = [resource]
    for step in path.split("."):
        nxt: list = []
        for item in current:
            if isinstance(item, dict) and step in item:
                value = item[step]
                nxt.extend(value if isinstance(value, list) else [value])
        current = nxt
    return current


def reference_of(value: object) -> str | None:
    """'Type/id' from a Reference (absolute URLs and _history suffixes are cut off)."""
    if isinstance(value, dict):
        value = value.get("reference")
    if not isinstance(value, str) or not value:
        return None
    return normalize_reference(value)


def normalize_reference(value: str) -> str:
    value = value.split("/_history/")[0]
    parts = value.rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else value


def tokens_of(value: object) -> list[tuple[str | None, str]]:
    """(system, code) pairs of an Identifier, CodeableConcept, Coding or plain code."""
    if isinstance(value, str):
        return [(None, value)]
    if isinstance(value, bool):
        return [(None, "true" if value else "false")]
    if not isinstance(value, dict):
        return []
    if "coding" in value:
        return [(c.get("system"), c["code"]) for c in value["coding"] if isinstance(c, dict) and "code" in c]
    if "value" in value and isinstance(value["value"], str):      # Identifier
        return [(value.get("system"), value["value"])]
    if "code" in value and isinstance(value["code"], str):        # Coding
        return [(value.get("system"), value["code"])]
    return []


_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?"
                   r"(Z|[+-]\d{2}:\d{2})?)?)?)?$")


def date_range(text: str) -> tuple[float, float] | None:
    """The instant range [lo, hi) in epoch seconds that a FHIR date/dateTime/instant covers."""
    match = _DATE.match(text.strip()) if isinstance(text, str) else None
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    tz = timezone.utc
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        if month is None:
            lo, hi = datetime(int(year), 1, 1, tzinfo=tz), datetime(int(year) + 1, 1, 1, tzinfo=tz)
        elif day is None:
            lo = datetime(int(year), int(month), 1, tzinfo=tz)
            hi = datetime(int(year) + int(month) // 12, int(month) % 12 + 1, 1, tzinfo=tz)
        elif hour is None:
            lo = datetime(int(year), int(month), int(day), tzinfo=tz)
            hi = lo + timedelta(days=1)
        elif second is None:
            lo = datetime(int(year), int(month), int(day), int(hour), int(minute), tzinfo=tz)
            hi = lo + timedelta(minutes=1)
        else:
            lo = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                          int(float(fraction or 0) * 1_000_000), tzinfo=tz)
            hi = lo + (timedelta(milliseconds=1) if fraction else timedelta(seconds=1))
    except ValueError:
        return None
    return lo.timestamp(), hi.timestamp()


def dates_of(value: object) -> tuple[float, float] | None:
    if isinstance(value, str):
        return date_range(value)
    if isinstance(value, dict) and ("start" in value or "end" in value):   # Period: open ends are open
        start = date_range(value["start"]) if "start" in value else None
        end = date_range(value["end"]) if "end" in value else None
        if (start is None and "start" in value) or (end is None and "end" in value):
            return None
        return (start[0] if start else float("-inf"), end[1] if end else float("inf"))
    return None


# Index rows ------------------------------------------------------------------------------------

@dataclass
class IndexRows:
    tokens: list[tuple[str, str | None, str]]           # (param, system, value); references as value
    dates: list[tuple[str, float, float]]               # (param, lo, hi)
    patient: str | None                                 # "Patient/<id>"


def index(resource: dict) -> IndexRows:
    info = registry().get(resource.get("resourceType", ""))
    if info is None:
        return IndexRows([], [], None)
    tokens: list[tuple[str, str | None, str]] = []
    dates: list[tuple[str, float, float]] = []
    for param in info.params.values():
        for path in param.paths:
            for value in values_at(resource, path):
                if param.type == "token":
                    tokens.extend((param.name, s, v) for s, v in tokens_of(value))
                elif param.type == "reference":
                    ref = reference_of(value)
                    if ref and (param.name != "patient" or ref.startswith("Patient/")):
                        tokens.append((param.name, None, ref))
                elif param.type == "string" and isinstance(value, str):
                    tokens.append((param.name, None, value.lower()))
                elif param.type == "date":
                    found = dates_of(value)
                    if found:
                        dates.append((param.name, *found))
    return IndexRows(tokens, dates, patient_of(resource))


def patient_of(resource: dict) -> str | None:
    info = registry().get(resource.get("resourceType", ""))
    if info is None or info.patient_path is None:
        if resource.get("resourceType") == "Provenance":
            refs = [reference_of(t) for t in resource.get("target", [])]
            return next((r for r in refs if r and r.startswith("Patient/")), None)
        return None
    if info.patient_path == "self":
        return f"Patient/{resource.get('id')}"
    for value in values_at(resource, info.patient_path):
        ref = reference_of(value)
        if ref:
            return ref
    return None


def today_range() -> tuple[float, float]:
    start = datetime.combine(date.today(), datetime.min.time(), tzinfo=timezone.utc)
    return start.timestamp(), (start + timedelta(days=1)).timestamp()
