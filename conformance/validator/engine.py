"""The structural engine: base R4 validation from the compiled core table.

Each type is compiled on first use into a `Node` (its children by JSON key, with cardinality,
primitive checker, binding, reference targets and invariants), so validating a resource is one
walk over its JSON with dictionary lookups, never a re-read of a StructureDefinition.
"""
from __future__ import annotations

import gzip
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from conformance.validator.fixes import fix_for
from conformance.validator.invariants import Invariant, fix_values
from conformance.validator.outcome import Issue
from conformance.validator.primitives import EXAMPLES, Checker, make_checker

R4_TABLE = Path(__file__).with_name("r4") / "r4.json.gz"
_REF_LOCAL = re.compile(r"^(?:(?P<base>https?://\S+?)/)?(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})"
                        r"(?:/_history/[A-Za-z0-9\-.]{1,64})?$")
_INLINE = ("BackboneElement", "Element")


@dataclass
class Child:
    name: str                  # the FHIRPath name (value for value[x])
    key: str                   # the JSON key (valueQuantity)
    type_code: str
    min: int
    max: int                   # -1 for *
    location: str              # how the path reads: name, or value.ofType(Quantity)
    many: bool
    prim: Checker | None = None
    node: "Node | None" = None
    binding: tuple[str, str] | None = None
    targets: tuple[str, ...] = ()
    invariants: tuple[Invariant, ...] = ()
    choice: bool = False
    fixed: object = None
    pattern: object = None


@dataclass
class Node:
    """One complex type, resource or backbone element, with its children by JSON key."""
    type_path: str             # FHIRPath type path (Patient, Patient.contact, Period)
    is_resource: bool = False
    children: dict[str, Child] = field(default_factory=dict)
    required: list[tuple[str, tuple[str, ...], Child]] = field(default_factory=list)
    choices: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    keys_of: dict[str, tuple[str, ...]] = field(default_factory=dict)
    invariants: tuple[Invariant, ...] = ()


class Context:
    """Per-validation state: the issues found and the references seen (for Bundle rules)."""
    __slots__ = ("issues", "references", "root")

    def __init__(self, root: dict) -> None:
        self.issues: list[Issue] = []
        self.references: list[tuple[str, str, tuple[str, ...]]] = []  # (path, reference, targets)
        self.root = root

    def add(self, severity: str, code: str, rule: str, path: str, message: str, **fix: object) -> None:
        self.issues.append(Issue(severity, code, message, path, rule, fix_for(rule, element=path, **fix)))


class Core:
    """The compiled R4 core: types, primitives and value set expansions, loaded once."""

    def __init__(self, table_path: Path = R4_TABLE) -> None:
        with gzip.open(table_path, "rb") as fh:
            table = json.loads(fh.read())
        self.types: dict[str, dict] = table["types"]
        self.valuesets: dict[str, dict | None] = table["valuesets"]
        self.checkers: dict[str, Checker] = {n: make_checker(n, s) for n, s in table["primitives"].items()}
        self._nodes: dict[str, Node] = {}
        self._building: dict[str, Node] = {}
        self._lock = threading.RLock()
        self._codes: dict[str, frozenset[str] | None] = {}
        self.resource_types = frozenset(n for n, t in self.types.items()
                                        if t["kind"] == "resource" and not t["abstract"])
        self.extra_valuesets: dict[str, dict | None] = {}   # the guide's, expanded on first use
        self.resolve_valueset = None                         # set by the profile layer
        self.hooks: dict[str, object] = {}   # type code -> hook(value, path, ctx): the domain rules

    # -- compilation ------------------------------------------------------------------------
    def type_node(self, name: str) -> Node | None:
        node = self._nodes.get(name)
        if node is None and name in self.types:
            # The platform validates from many threads: a node is published only once complete.
            with self._lock:
                node = self._nodes.get(name)
                if node is None:
                    spec = self.types[name]
                    groups: dict[str, list[tuple[str, dict]]] = {}
                    for rel, el in spec["elements"].items():
                        parent, _, leaf = rel.rpartition(".")
                        groups.setdefault(parent, []).append((leaf, el))
                    node = self._building[name] = Node(name, is_resource=spec["kind"] == "resource")
                    node.invariants = _invariants(spec.get("inv", ()), name)
                    self._fill(node, name, "", groups)
                    self._nodes.update(self._building)
                    self._building.clear()
        return node

    def _fill(self, node: Node, type_name: str, prefix: str, groups: dict) -> None:
        for leaf, el in groups.get(prefix, ()):
            rel = f"{prefix}.{leaf}" if prefix else leaf
            types = el.get("t", ())
            inline = None
            if "ref" in el:
                ref_rel = el["ref"].split(".", 1)[1]
                inline = self._inline(type_name, ref_rel, groups)
            elif types and types[0] in _INLINE and rel in groups:
                inline = self._inline(type_name, rel, groups)
            invs = _invariants(el.get("inv", ()), f"{type_name}.{rel}")
            binding = tuple(el["b"]) if "b" in el else None
            is_choice = leaf.endswith("[x]")
            base = leaf[:-3] if is_choice else leaf
            keys = []
            for code in (types if is_choice else types[:1] or ["Element"]):
                key = base + code[0].upper() + code[1:] if is_choice else base
                child = Child(name=base, key=key, type_code=code, min=el["min"], max=el["max"],
                              location=f"{base}.ofType({code})" if is_choice else base,
                              many=el["max"] != 1, prim=self.checkers.get(code), node=inline,
                              binding=binding, targets=tuple(el.get("tp", {}).get(code, ())),
                              invariants=invs, choice=is_choice,
                              fixed=el.get("fixed"), pattern=el.get("pattern"))
                node.children[key] = child
                keys.append(key)
            node.keys_of[base] = tuple(keys) + tuple("_" + k for k in keys)
            if el["min"] > 0:
                node.required.append((base, node.keys_of[base], node.children[keys[0]]))
            if is_choice:
                node.choices.append((base, tuple(keys)))

    def _inline(self, type_name: str, rel: str, groups: dict) -> Node:
        cache_key = f"{type_name}.{rel}"
        node = self._nodes.get(cache_key) or self._building.get(cache_key)
        if node is None:  # registered before filling: contentReference may point back at it
            node = self._building[cache_key] = Node(cache_key)
            self._fill(node, type_name, rel, groups)
        return node

    def node_for(self, child: Child) -> Node | None:
        if child.node is None and child.prim is None:
            child.node = self.type_node(child.type_code)
        return child.node

    def codes(self, valueset: str) -> dict | None:
        """The expansion {system: codes} of a bound value set, None when not expandable."""
        if valueset in self.extra_valuesets:
            return self.extra_valuesets[valueset]
        if valueset in self.valuesets:
            return self.valuesets[valueset]
        if self.resolve_valueset is not None:
            self.extra_valuesets[valueset] = self.resolve_valueset(valueset)
            return self.extra_valuesets[valueset]
        return None

    # -- walking ------------------------------------------------------------------------------
    def validate_resource(self, obj: object, path: str, ctx: Context) -> None:
        if not isinstance(obj, dict):
            ctx.add("error", "structure", "json-type", path, "A FHIR resource must be a JSON object.",
                    expected="a JSON object", example='{"resourceType": "Patient"}')
            return
        rtype = obj.get("resourceType")
        if not isinstance(rtype, str) or rtype not in self.resource_types:
            what = "has no resourceType" if rtype is None else f"has an unknown resourceType {rtype!r}"
            ctx.add("error", "structure", "resource-type", f"{path}.resourceType" if path else "resourceType",
                    f"The resource {what}.")
            return
        node = self.type_node(rtype)
        if ".contained[" in path:
            self.walk(obj, node, path, ctx)
            return
        # %resource and %rootResource are the nearest resource that is not contained: a Bundle
        # entry's resource is its own root.
        outer, ctx.root = ctx.root, obj
        try:
            self.walk(obj, node, path or rtype, ctx)
        finally:
            ctx.root = outer

    def walk(self, obj: dict, node: Node, path: str, ctx: Context) -> None:
        if not node.is_resource and (not obj or (len(obj) == 1 and "id" in obj)):
            ctx.add("error", "structure", "ele-1", path, f"{path} is empty: it has no value and no children.")
        children = node.children
        for key, value in obj.items():
            child = children.get(key)
            if child is not None:
                self._child(obj, value, child, path, ctx)
            elif key == "resourceType" and node.is_resource:
                continue
            elif key.startswith("_") and key[1:] in children and children[key[1:]].prim is not None:
                self._primitive_element(obj, key, value, children[key[1:]], path, ctx)
            else:
                self._unknown(key, node, path, ctx)
        for base, keys, child in node.required:
            if not any(k in obj for k in keys):
                ctx.add("error", "required", "cardinality-min", f"{path}.{base}",
                        f"{path}.{base} is required ({child.min}..{_max(child.max)}) but missing.",
                        min=child.min, max=_max(child.max))
        for base, keys in node.choices:
            found = [k for k in keys if k in obj]
            if len(found) > 1:
                ctx.add("error", "structure", "choice-type", f"{path}.{base}",
                        f"{path}.{base}[x] has more than one type: {', '.join(found)}.",
                        variants=", ".join(found))
        if node.invariants:
            invariants = node.invariants
            if node.is_resource and path.endswith("]") and ".contained[" in path:
                # the dom-* rules are judged from the container; contained resources need no narrative
                invariants = tuple(i for i in invariants if not i.key.startswith("dom-"))
            self._invariants(obj, node, invariants, path, ctx)

    def _unknown(self, key: str, node: Node, path: str, ctx: Context) -> None:
        import difflib  # only when there is something to suggest
        close = difflib.get_close_matches(key, list(node.children), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        ctx.add("error", "structure", "unknown-element", f"{path}.{key}",
                f"Unknown element '{key}' in {node.type_path}.", name=key, type=node.type_path, suggestion=hint)

    def _child(self, obj: dict, value: object, child: Child, path: str, ctx: Context) -> None:
        epath = f"{path}.{child.location}"
        if value is None:
            if child.prim is None or ("_" + child.key) not in obj:
                ctx.add("error", "structure", "null", epath, f"{epath} is null.")
            return
        if child.many:
            if not isinstance(value, list):
                ctx.add("error", "structure", "array", epath, f"{epath} must be a JSON array.", max=_max(child.max))
                self._value(value, child, epath, ctx)
                return
            if not value:
                ctx.add("error", "structure", "empty-array", epath, f"{epath} is an empty array.")
                return
            if child.max > 0 and len(value) > child.max:
                ctx.add("error", "structure", "cardinality-max", epath,
                        f"{epath} has {len(value)} values; at most {child.max} allowed.", max=child.max, count=len(value))
            shadow = obj.get("_" + child.key)
            for i, item in enumerate(value):
                ipath = f"{epath}[{i}]"
                if item is None:
                    if not (isinstance(shadow, list) and i < len(shadow) and shadow[i] is not None):
                        ctx.add("error", "structure", "null", ipath, f"{ipath} is null.")
                    continue
                self._value(item, child, ipath, ctx)
        elif isinstance(value, list):
            ctx.add("error", "structure", "not-array", epath, f"{epath} must be a single value, not an array.")
        else:
            self._value(value, child, epath, ctx)

    def _value(self, value: object, child: Child, path: str, ctx: Context) -> None:
        if child.prim is not None:
            problem = child.prim(value)
            if problem is not None:
                rule, message = problem
                expected = {"boolean": "a JSON boolean without quotes", "integer": "a JSON integer without quotes",
                            "decimal": "a JSON number without quotes", "positiveInt": "a JSON integer without quotes",
                            "unsignedInt": "a JSON integer without quotes"}.get(child.type_code, "a JSON string")
                ctx.add("error", "value" if rule in ("format", "calendar") else "structure", rule, path,
                        f"{path}: {message}.", expected=expected, type=child.type_code,
                        example=EXAMPLES.get(child.type_code, ""))
            elif child.binding is not None:
                self._bind_code(value, child, path, ctx)
            return
        if child.type_code == "Resource" or child.type_code in self.resource_types:
            self.validate_resource(value, path, ctx)
            return
        if not isinstance(value, dict):
            ctx.add("error", "structure", "json-type", path, f"{path} must be a JSON object ({child.type_code}).",
                    expected=f"a JSON object ({child.type_code})",
                    example='{"reference": "Organization/123"}' if child.type_code == "Reference" else "{ ... }")
            return
        node = self.node_for(child)
        if node is None:
            return
        self.walk(value, node, path, ctx)
        if child.type_code == "Reference":
            self._reference(value, child, path, ctx)
        elif child.type_code == "Extension":
            _ext_1(value, path, ctx)
        if child.binding is not None:
            self._bind_coded(value, child, path, ctx)
        hook = self.hooks.get(child.type_code)
        if hook is not None:
            hook(value, path, ctx)
        if child.invariants:
            self._invariants(value, node, child.invariants, path, ctx)

    def _primitive_element(self, obj: dict, key: str, value: object, child: Child, path: str, ctx: Context) -> None:
        epath = f"{path}.{child.location}"
        element = self.type_node("Element")
        items = value if isinstance(value, list) else [value]
        if child.many != isinstance(value, list):
            ctx.add("error", "structure", "array" if child.many else "not-array", epath,
                    f"{key} must {'be' if child.many else 'not be'} an array, like {child.key}.", max=_max(child.max))
        for i, item in enumerate(items):
            ipath = f"{epath}[{i}]" if child.many else epath
            if item is None and isinstance(value, list):
                continue
            if not isinstance(item, dict):
                ctx.add("error", "structure", "json-type", ipath, f"{key} must hold JSON objects (id, extension).",
                        expected="a JSON object", example='{"extension": [ ... ]}')
                continue
            self.walk(item, element, ipath, ctx)

    def _invariants(self, value: dict, node: Node, invariants, path: str, ctx: Context) -> None:
        keys_of = node.keys_of

        def present(names) -> bool:
            for name in names:
                for k in keys_of.get(name, (name,)):
                    if k in value:
                        return True
            return False

        for inv in invariants:
            if not inv.holds(value, node.type_path, ctx.root, present):
                ctx.add(inv.severity, "invariant", inv.key, path, f"Constraint {inv.key} failed: {inv.human}",
                        key=inv.key, human=inv.human, **fix_values(inv.key, value))

    # -- references and bindings --------------------------------------------------------------
    def _reference(self, value: dict, child: Child, path: str, ctx: Context) -> None:
        ref = value.get("reference")
        if not isinstance(ref, str) or not ref:
            return
        targets = child.targets
        ctx.references.append((f"{path}.reference", ref, targets))
        if ref.startswith(("#", "urn:uuid:", "urn:oid:")):
            return
        m = _REF_LOCAL.match(ref)
        if m is None:
            if not ref.startswith(("http://", "https://")):
                ctx.add("error", "value", "reference-format", f"{path}.reference", f"{ref!r} is not a valid reference.")
            return
        self.check_target(m.group("type"), targets, f"{path}.reference", ctx)
        declared = value.get("type")
        if isinstance(declared, str) and declared != m.group("type"):
            ctx.add("error", "value", "reference-type", f"{path}.type",
                    f"Reference.type {declared} does not match the reference {ref}.", targets=m.group("type"))

    def check_target(self, rtype: str, targets: tuple[str, ...], path: str, ctx: Context) -> None:
        if not targets or "Resource" in targets or rtype in targets:
            return
        if rtype not in self.resource_types:
            ctx.add("error", "value", "reference-format", path, f"{rtype} is not a resource type.")
            return
        ctx.add("error", "value", "reference-type", path,
                f"{path} points at a {rtype}; only {', '.join(targets)} allowed.", targets=", ".join(targets))

    def _bind_code(self, code: object, child: Child, path: str, ctx: Context) -> None:
        strength, url = child.binding
        expansion = self.codes(url)
        if expansion is None or not isinstance(code, str):
            return
        allowed = self._code_set(url, expansion)
        if code not in allowed:
            self._binding_issue(strength, url, path, f"{code!r} is not in value set {url}", expansion, "binding", ctx)

    def _code_set(self, url: str, expansion: dict) -> frozenset[str]:
        codes = self._codes.get(url)
        if codes is None:
            codes = self._codes[url] = frozenset(c for cs in expansion.values() for c in cs)
        return codes

    def _bind_coded(self, value: dict, child: Child, path: str, ctx: Context) -> None:
        strength, url = child.binding
        expansion = self.codes(url)
        if expansion is None:
            return
        if child.type_code == "Coding":
            codings, cpaths = [value], [path]
        elif child.type_code == "CodeableConcept":
            codings = value.get("coding") if isinstance(value.get("coding"), list) else []
            cpaths = [f"{path}.coding[{i}]" for i in range(len(codings))]
        else:
            return
        for coding in codings:
            if isinstance(coding, dict) and coding.get("code") in expansion.get(coding.get("system"), ()):
                return
        where = cpaths[0] if len(cpaths) == 1 else path
        got = ", ".join(f"{c.get('system')}#{c.get('code')}" for c in codings if isinstance(c, dict)) or "no coding"
        self._binding_issue(strength, url, where, f"{got} is not in value set {url}", expansion, "binding-coding", ctx)

    def _binding_issue(self, strength: str, url: str, path: str, what: str, expansion: dict, rule: str,
                       ctx: Context) -> None:
        parts = []
        for system, cs in expansion.items():
            shown = ", ".join(sorted(cs)[:12]) + (" ..." if len(cs) > 12 else "")
            parts.append(f"{shown} (system {system})" if rule == "binding-coding" and system else shown)
        codes = "; ".join(parts)
        severity = "error" if strength == "required" else "warning"
        ctx.add(severity, "code-invalid", rule, path, f"{path}: {what} ({strength} binding).",
                valueset=url, codes=codes)


def _ext_1(value: dict, path: str, ctx: Context) -> None:
    """ext-1 natively: an extension has nested extensions or a value[x], exactly one of them."""
    has_value = any(k.startswith("value") for k in value)
    if ("extension" in value) == has_value:
        ctx.add("error", "invariant", "ext-1", path,
                f"Constraint ext-1 failed at {path}: must have either extensions or value[x], not both.")


def _invariants(raw, type_path: str) -> tuple[Invariant, ...]:
    out = []
    for key, severity, human, expression in raw:
        inv = Invariant.make(key, severity, human, expression)
        if inv is not None:
            out.append(inv)
    return tuple(out)


def _max(value: int) -> str:
    return "*" if value < 0 else str(value)
