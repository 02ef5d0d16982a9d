"""FHIRPath invariants, compiled once each with fhirpathpy's R4 model.

Three things make them cheap and safe:
- fhirpathpy is imported on first use, so cold start does not pay for it;
- an invariant whose expression reads only some child elements gives the same answer whenever
  all of those are absent, so that answer is computed once per (element, key) and reused
  (most core invariants start `x.empty() or …`);
- expressions that use functions fhirpathpy lacks are skipped with a note (SKIPPED), never
  reported as failures. ele-1 and ext-1 are checked natively by the engine instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from conformance.validator.fastpath import Unsupported, compile_fhirpath

UNSUPPORTED = ("hasValue(", "resolve(", "conformsTo(", "memberOf(", "htmlChecks(", "lowBoundary(",
               "highBoundary(", "getValue(", "comparable(", "extension(")
_UNCACHEABLE = ("%resource", "%rootResource", "%context", "$this", "descendants(", "children(",
                "repeat(", "now(", "today(", "trace(")
_STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|`[^`]*`")
_ROOT_IDENT = re.compile(r"(?<![.\w%$])([a-z][A-Za-z0-9]*)\b(?!\s*\()")
_HAS_VALUE = re.compile(r"(\b[a-z][A-Za-z0-9]*)\.hasValue\(\)")
_GUARD_EMPTY_OR = re.compile(r"^([a-z][A-Za-z0-9]*)\.empty\(\) or ")
_GUARD_CHAIN = re.compile(r"^([a-z][A-Za-z0-9]*)\..*\.empty\(\)$")
_KEYWORDS = {"and", "or", "xor", "implies", "not", "in", "contains", "is", "as", "div", "mod",
             "true", "false"}

SKIPPED: dict[str, str] = {}  # key -> why; listed in docs/validator.md

def _compile(expression: str):
    import fhirpathpy
    from fhirpathpy.models import models
    # trace() would print to stdout by default; invariants such as ref-1 call it.
    return fhirpathpy.compile(expression, models["r4"], options={"traceFn": _quiet})


def _quiet(label, value) -> None:
    return None


def _references(value, out: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, v in value.items():
            if key == "reference" and isinstance(v, str):
                out.add(v)
            else:
                _references(v, out)
    elif isinstance(value, list):
        for v in value:
            _references(v, out)
    return out


def _dom_3(value: dict) -> bool:
    """dom-3 natively: every contained resource is referenced from the container (#id), or
    refers to the container itself (#). fhirpathpy fails on the core expression."""
    contained = value.get("contained")
    if not isinstance(contained, list):
        return True
    refs = _references({k: v for k, v in value.items() if k != "contained"}, set())
    inner = _references(contained, set())
    for c in contained:
        if isinstance(c, dict) and isinstance(c.get("id"), str):
            if f"#{c['id']}" not in refs | inner and "#" not in _references(c, set()):
                return False
    return True


NATIVE = {"dom-3": _dom_3}  # core invariants whose FHIRPath neither engine can run


def _news2_sum(value: dict) -> dict:
    parts = [c.get("valueInteger") for c in value.get("component", ()) if isinstance(c, dict)]
    total = sum(p for p in parts if isinstance(p, int) and not isinstance(p, bool))
    return {"sum": total}


# Values that make a fix text concrete ("set valueInteger to 6"), by constraint key.
FIX_VALUES = {"sk-news2-total-sum": _news2_sum}


def fix_values(key: str, value: object) -> dict:
    compute = FIX_VALUES.get(key)
    if compute is None or not isinstance(value, dict):
        return {}
    try:
        return compute(value)
    except (TypeError, ValueError):
        return {}


def _guard(plain: str) -> str | None:
    """`x.empty() or …`, or one path chain `x.….empty()` with no top-level operator: holds when x is absent."""
    m = _GUARD_EMPTY_OR.match(plain)
    if m:
        return m.group(1)
    m = _GUARD_CHAIN.match(plain)
    if m:
        depth = 0
        for ch in plain:
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and ch == " ":
                return None
        return m.group(1)
    return None


@dataclass
class Invariant:
    key: str
    severity: str
    human: str
    expression: str
    source: str = "core"
    reads: frozenset[str] | None = None   # child names read, None when not cacheable
    _fn: object = field(default=None, repr=False)
    _fast: object = field(default=None, repr=False)
    _when_absent: dict = field(default_factory=dict, repr=False)

    guard: str | None = None               # a child whose absence alone makes the invariant hold

    @classmethod
    def make(cls, key: str, severity: str, human: str, expression: str, source: str = "core") -> "Invariant | None":
        # On a primitive child, x.hasValue() is x.exists() for JSON input (fhirpathpy lacks hasValue).
        expression = _HAS_VALUE.sub(r"\1.exists()", expression)
        if any(f in expression for f in UNSUPPORTED):
            SKIPPED.setdefault(key, "uses a FHIRPath function fhirpathpy does not implement")
            return None
        plain = _STRINGS.sub("''", expression)
        reads = None
        if not any(u in plain for u in _UNCACHEABLE):
            reads = frozenset(n for n in _ROOT_IDENT.findall(plain) if n not in _KEYWORDS)
        return cls(key, severity, human, expression, source, reads, guard=_guard(plain))

    def holds(self, value: dict, type_path: str, root: dict, present) -> bool:
        """True when the invariant holds on `value`; `present(names)` says if any child is present."""
        if self.source == "core" and self.key in NATIVE:
            return NATIVE[self.key](value)
        if self.guard is not None and not present((self.guard,)):
            return True
        if self.reads is not None and not present(self.reads):
            cached = self._when_absent.get(type_path)
            if cached is None:
                cached = self._when_absent[type_path] = self._run(value, type_path, root)
            return cached
        return self._run(value, type_path, root)

    def _run(self, value: dict, type_path: str, root: dict) -> bool:
        if self._fast is None:
            try:
                self._fast = compile_fhirpath(self.expression)
            except Exception:  # outside the compiled subset: fhirpathpy evaluates it
                self._fast = False
        if self._fast is not False:
            try:
                result = self._fast([value], {"resource": root, "rootResource": root, "context": value})
            except Unsupported:
                result = self._slow(value, type_path, root)
        else:
            result = self._slow(value, type_path, root)
        if result is None:
            return True
        # Only an explicit false fails: an empty result means the rule does not apply.
        return not (len(result) == 1 and result[0] is False)

    def _slow(self, value: dict, type_path: str, root: dict) -> list | None:
        if self._fn is None:
            try:
                self._fn = _compile(self.expression)
            except Exception as error:  # a grammar fhirpathpy cannot parse: skip, never fail
                SKIPPED.setdefault(self.key, f"fhirpathpy cannot parse it ({type(error).__name__})")
                self._fn = False
        if self._fn is False:
            return None
        from fhirpathpy.engine.nodes import ResourceNode
        try:
            return self._fn(ResourceNode.create_node(value, type_path), {"resource": root, "rootResource": root})
        except Exception as error:
            SKIPPED.setdefault(self.key, f"fhirpathpy fails on it ({type(error).__name__})")
            return None
