"""Value set expansion for validation: which (system, code) pairs a value set allows.

Used twice, by one code path: at build time by tools/compile_r4.py for the core's bindings, and
at `Validator.default()` time for the guide's own CodeSystems and ValueSets. A value set that
cannot be expanded offline (filters other than is-a, external systems such as LOINC, SNOMED CT,
UCUM, BCP-47) expands to None, and the validator then skips the membership check with a note
rather than guessing.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

Expansion = dict[str, frozenset[str]]  # system -> codes


def strip_version(url: str) -> str:
    return url.split("|", 1)[0]


def _all_codes(concepts: Iterable[dict]) -> Iterable[str]:
    for concept in concepts:
        yield concept["code"]
        yield from _all_codes(concept.get("concept", ()))


def _descendants(concepts: Iterable[dict], root: str, inside: bool = False) -> Iterable[str]:
    for concept in concepts:
        here = inside or concept["code"] == root
        if here:
            yield concept["code"]
        yield from _descendants(concept.get("concept", ()), root, here)


class Terminology:
    """Code systems and value sets by canonical URL, expanded lazily and memoised."""

    def __init__(self, code_systems: Mapping[str, dict], value_sets: Mapping[str, dict]) -> None:
        self.code_systems = dict(code_systems)
        self.value_sets = dict(value_sets)
        self._cache: dict[str, Expansion | None] = {}
        self._lock = threading.RLock()
        self._pending: set[str] = set()

    def expand(self, url: str) -> Expansion | None:
        url = strip_version(url)
        if url in self._cache:
            return self._cache[url]
        with self._lock:  # one thread expands; the others wait for the finished expansion
            if url in self._cache:
                return self._cache[url]
            if url in self._pending:
                return None  # a cycle between value sets: not expandable
            self._pending.add(url)
            try:
                result = self._expand(url)
            finally:
                self._pending.discard(url)
            self._cache[url] = result
            return result

    def _expand(self, url: str) -> Expansion | None:
        vs = self.value_sets.get(url)
        if vs is None:
            return None
        if "compose" not in vs:
            contains = vs.get("expansion", {}).get("contains")
            if not contains:
                return None
            out: dict[str, set[str]] = {}
            for c in contains:
                out.setdefault(c.get("system", ""), set()).add(c["code"])
            return {s: frozenset(c) for s, c in out.items()}
        included = self._union(vs["compose"].get("include", ()))
        if included is None:
            return None
        excluded = self._union(vs["compose"].get("exclude", ())) or {}
        return {s: frozenset(c - excluded.get(s, frozenset())) for s, c in included.items()}

    def _union(self, parts: Iterable[dict]) -> dict[str, set[str]] | None:
        out: dict[str, set[str]] = {}
        for part in parts:
            expansion = self._part(part)
            if expansion is None:
                return None
            for system, codes in expansion.items():
                out.setdefault(system, set()).update(codes)
        return out

    def _part(self, part: dict) -> dict[str, set[str]] | None:
        result: dict[str, set[str]] | None = None
        system = part.get("system")
        if system:
            if "concept" in part:
                codes = {c["code"] for c in part["concept"]}
            else:
                codes = self._system_codes(system, part.get("filter", ()))
                if codes is None:
                    return None
            result = {system: codes}
        for vs_url in part.get("valueSet", ()):
            other = self.expand(vs_url)
            if other is None:
                return None
            if result is None:
                result = {s: set(c) for s, c in other.items()}
            else:  # system and valueSet together mean the intersection
                result = {s: c & set(other.get(s, ())) for s, c in result.items()}
        return result

    def _system_codes(self, system: str, filters: Iterable[dict]) -> set[str] | None:
        cs = self.code_systems.get(system)
        if cs is None or cs.get("content", "complete") not in ("complete",):
            return None
        concepts = cs.get("concept", ())
        codes = set(_all_codes(concepts))
        for flt in filters:
            if flt.get("property") == "concept" and flt.get("op") in ("is-a", "descendent-of"):
                below = set(_descendants(concepts, flt["value"]))
                if flt["op"] == "descendent-of":
                    below.discard(flt["value"])
                codes &= below
            else:
                return None
        return codes

    def system_known(self, system: str) -> bool:
        return system in self.code_systems

    def code_in_system(self, system: str, code: str) -> bool | None:
        """True/False for a complete code system we hold, None when we cannot tell."""
        codes = self._system_codes(system, ())
        return None if codes is None else code in codes
