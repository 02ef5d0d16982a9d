"""Helpers shared by the guide's tests: the package's profiles and examples, and evaluation of the
guide's own FHIRPath invariants (the sk-* keys) with fhirpathpy, the engine the platform uses."""
from __future__ import annotations

import copy
from functools import cache

from fhirpathpy import compile as fp_compile
from fhirpathpy.models import models

import conformance.ig as ig

SD = "https://sandkasse.no/fhir/StructureDefinition/"


def profiles() -> dict[str, dict]:
    """Profiles (not extensions) by id."""
    return {r["id"]: r for r in ig.by_type("StructureDefinition").values() if r["type"] != "Extension"}


def extensions() -> dict[str, dict]:
    """Extension definitions by URL."""
    return {url: r for url, r in ig.by_type("StructureDefinition").items() if r["type"] == "Extension"}


def example(resource_id: str) -> dict:
    """A deep copy of one example, safe to mutate."""
    for resource in ig.load_examples():
        if resource["id"] == resource_id:
            return copy.deepcopy(resource)
    raise KeyError(resource_id)


@cache
def _compiled(expression: str):
    return fp_compile(expression, models["r4"])


def _scoped(element_path: str, root: str, expression: str) -> str:
    """The invariant as one expression on the resource: `expression` holds for every node at
    element_path (e.g. Observation.component), or for the resource itself at the root."""
    if element_path == root:
        return expression
    return f"{element_path[len(root) + 1:].replace('[x]', '')}.all({expression})"


def invariants(sd: dict) -> list[tuple[str, str, str]]:
    """(key, element path, expression) of the guide's own invariants in a snapshot."""
    out = []
    for element in sd["snapshot"]["element"]:
        for constraint in element.get("constraint", []):
            if constraint["key"].startswith("sk-"):
                out.append((constraint["key"], element["path"], constraint["expression"]))
    return out


def failing_invariants(resource: dict) -> set[str]:
    """Keys of the sk-* invariants the resource breaks, for its profile and the extensions it uses."""
    failed: set[str] = set()
    profile = profiles()[resource["meta"]["profile"][0].removeprefix(SD)]
    for key, path, expression in invariants(profile):
        if _compiled(_scoped(path, profile["type"], expression))(resource, {"resource": resource}) != [True]:
            failed.add(key)
    for url, ext in extensions().items():
        for key, path, expression in invariants(ext):
            scoped = _scoped(path, "Extension", expression)
            query = f"descendants().where(url = '{url}').all({scoped})"
            if _compiled(query)(resource, {"resource": resource}) != [True]:
                failed.add(key)
    return failed
