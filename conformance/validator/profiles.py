"""Profiles of the guide, compiled once from their snapshots into a tree of small checks.

The base engine has already checked everything the core says, so a profile only checks what it
adds: tighter cardinality, restricted types, fixed and pattern values, its own bindings (to the
guide's value sets), its own invariants, reference target profiles, extension definitions
(validated recursively) and slicing (by value, pattern, type or exists on a discriminator path).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from conformance.validator.engine import Context, Core, _max
from conformance.validator.fixes import identifier_system_name
from conformance.validator.invariants import Invariant, fix_values
from conformance.validator.terminology import Terminology, strip_version

CORE_SD = "http://hl7.org/fhir/StructureDefinition/"
FHIR_TYPE = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"


@dataclass
class PElement:
    """One element of a profile (or one slice of it) and what the profile adds there."""
    name: str                                  # JSON base name; "value[x]" style names keep [x]
    min: int = 0
    max: int = -1
    base_min: int = 0
    base_max: int = -1
    types: tuple[str, ...] = ()
    restricted: bool = False                   # the profile narrowed the choice of types
    fixed: object = None
    pattern: object = None
    binding: tuple[str, str] | None = None
    target_types: tuple[str, ...] = ()
    type_profiles: tuple[str, ...] = ()
    invariants: tuple[Invariant, ...] = ()
    type_path: str = ""
    children: dict[str, "PElement"] = field(default_factory=dict)
    discriminators: tuple[tuple[str, str], ...] = ()
    rules: str = "open"
    slices: dict[str, "PElement"] = field(default_factory=dict)
    slice_name: str | None = None
    matchers: tuple = ()                       # per slice: (name, slice, ((kind, path, expected), ...))
    slice_index: dict | None = None            # signature -> slice name, when every slice is keyed simply
    choice_keys: tuple = ()                    # for value[x]: ((JSON key, type code), ...) of the base types

    def is_empty(self) -> bool:
        return not (self.min > self.base_min or (self.max >= 0 and (self.base_max < 0 or self.max < self.base_max))
                    or self.restricted or self.fixed is not None or self.pattern is not None
                    or self.binding or self.target_types or self.type_profiles or self.invariants
                    or self.slices or any(not c.is_empty() for c in self.children.values()))


@dataclass
class Profile:
    url: str
    name: str
    type: str
    root: PElement


def _int_max(value) -> int:
    return -1 if value in (None, "*") else int(value)


def _type_code(t: dict) -> str:
    code = t["code"]
    if code.startswith("http://hl7.org/fhirpath/System."):
        for e in t.get("extension", ()):
            if e.get("url") == FHIR_TYPE:
                return e["valueUrl"]
        return "string"
    return code


def _segments(element_id: str) -> list[tuple[str, str | None]]:
    """'Observation.component:spo2.value[x]' -> [('component','spo2'), ('value[x]', None)]."""
    out = []
    for part in element_id.split(".")[1:]:
        name, _, slice_name = part.partition(":")
        out.append((name, slice_name or None))
    return out


class ProfileSet:
    """All profiles of the guide, by canonical URL, with the guide's terminology."""

    def __init__(self, core: Core, resources: Iterable[dict]) -> None:
        self.core = core
        sds, code_systems, value_sets = {}, {}, {}
        for r in resources:
            kind = r.get("resourceType")
            if kind == "StructureDefinition" and r.get("snapshot") and r.get("derivation") == "constraint":
                sds[r["url"]] = r
            elif kind == "CodeSystem":
                code_systems[r["url"]] = r
            elif kind == "ValueSet":
                value_sets[r["url"]] = r
        self.terminology = Terminology(code_systems, value_sets)
        self._sds = sds
        self._profiles: dict[str, Profile] = {}
        # Each profile is compiled once, on first use; each of the guide's value sets likewise
        # expanded once. The guide's own value sets override nothing of the core's.
        core.resolve_valueset = lambda url: self._expansion(url) if url in value_sets else None

    @classmethod
    def from_guide(cls, core: Core) -> "ProfileSet":
        return cls(core, _guide_resources())

    @property
    def urls(self) -> list[str]:
        return sorted(self._sds)

    def _expansion(self, url: str) -> dict | None:
        exp = self.terminology.expand(url)
        return None if exp is None else {s: frozenset(c) for s, c in exp.items()}

    def get(self, url: str) -> Profile | None:
        url = strip_version(url)
        profile = self._profiles.get(url)
        if profile is None and url in self._sds:
            profile = self._profiles[url] = self._compile(self._sds[url])
        return profile

    # -- compilation ------------------------------------------------------------------------
    def _compile(self, sd: dict) -> Profile:
        elements = sd["snapshot"]["element"]
        root = self._element(elements[0], sd["type"], sd["type"])
        root.name = sd["type"]
        for el in elements[1:]:
            segs = _segments(el["id"])
            parent = root
            for name, slice_name in segs[:-1]:
                parent = parent.children.setdefault(name, PElement(name))
                if slice_name:
                    parent = parent.slices.setdefault(slice_name, PElement(name, slice_name=slice_name))
            name, slice_name = segs[-1]
            made = self._element(el, name, sd["type"])
            if slice_name:
                holder = parent.children.setdefault(name, PElement(name))
                made.slice_name = slice_name
                old = holder.slices.get(slice_name)
                if old is not None:
                    made.children, made.slices = old.children, old.slices
                holder.slices[slice_name] = made
            else:
                old = parent.children.get(name)
                if old is not None:
                    made.children, made.slices = old.children, old.slices
                parent.children[name] = made
        _prune(root)
        return Profile(sd["url"], sd.get("name", sd["id"]), sd["type"], root)

    def _element(self, el: dict, name: str, rtype: str) -> PElement:
        base = el.get("base", {})
        types = tuple(_type_code(t) for t in el.get("type", ()))
        base_types = self._base_types(el)
        pe = PElement(name=name, min=el.get("min", 0), max=_int_max(el.get("max")),
                      base_min=base.get("min", 0), base_max=_int_max(base.get("max")), types=types,
                      restricted=bool(types) and base_types is not None and set(types) < set(base_types))
        if name.endswith("[x]") and base_types:
            stem = name[:-3]
            pe.choice_keys = tuple((stem + t[0].upper() + t[1:], t) for t in base_types)
        for key, value in el.items():
            if key.startswith("fixed"):
                pe.fixed = value
            elif key.startswith("pattern"):
                pe.pattern = value
        binding = el.get("binding")
        if binding and binding.get("valueSet") and binding.get("strength") in ("required", "extensible"):
            vs = strip_version(binding["valueSet"])
            if vs in self.terminology.value_sets:  # the guide's own; the core's are checked already
                pe.binding = (binding["strength"], vs)
        targets, type_profiles = [], []
        for t in el.get("type", ()):
            for tp in t.get("targetProfile", ()):
                if not tp.startswith(CORE_SD):
                    target = self._sds.get(strip_version(tp))
                    targets.append(target["type"] if target else tp)
            type_profiles.extend(p for p in t.get("profile", ()) if not p.startswith(CORE_SD))
        pe.target_types = tuple(dict.fromkeys(targets))
        pe.type_profiles = tuple(type_profiles)
        path = el["path"].replace("[x]", "")
        pe.type_path = types[0] if len(types) == 1 and types[0][0].isupper() and types[0] not in (
            "BackboneElement", "Element") else path
        invs = []
        for c in el.get("constraint", ()):
            if c.get("source", "").startswith(CORE_SD) or c["key"] in ("ele-1", "ext-1") or not c.get("expression"):
                continue
            inv = Invariant.make(c["key"], c["severity"], c["human"], c["expression"], source="profile")
            if inv is not None:
                invs.append(inv)
        pe.invariants = tuple(invs)
        slicing = el.get("slicing")
        if slicing:
            pe.discriminators = tuple((d["type"], d["path"]) for d in slicing.get("discriminator", ()))
            pe.rules = slicing.get("rules", "open")
        return pe

    def _base_types(self, el: dict) -> list[str] | None:
        base_path = el.get("base", {}).get("path", "")
        type_name, _, rel = base_path.partition(".")
        spec = self.core.types.get(type_name)
        if spec is None or not rel:
            return None
        base_el = spec["elements"].get(rel)
        return None if base_el is None else base_el.get("t")

    # -- checking -----------------------------------------------------------------------------
    def check(self, resource: dict, path: str, ctx: Context, profile: str | None) -> None:
        """Check `resource` against `profile`, or against each profile named in its meta.profile."""
        if profile is not None:
            urls = [profile]
        else:
            meta = resource.get("meta")
            urls = meta.get("profile", []) if isinstance(meta, dict) else []
            if not isinstance(urls, list):
                return
        for url in urls:
            if not isinstance(url, str):
                continue
            compiled = self.get(url)
            if compiled is None:
                if not url.startswith(CORE_SD):
                    ctx.add("warning", "not-supported", "profile-unknown", f"{path}.meta.profile",
                            f"Profile {url} is not known; the resource was checked against base R4 only.")
                continue
            if compiled.type != resource.get("resourceType"):
                ctx.add("error", "invalid", "profile-type", path,
                        f"Profile {url} is for {compiled.type}, not {resource.get('resourceType')}.",
                        profile=url, expected=compiled.type)
                continue
            outer, ctx.root = ctx.root, resource
            try:
                self._item(resource, None, compiled.root, path, ctx)
            finally:
                ctx.root = outer

    def _item(self, value, shadow, pe: PElement, path: str, ctx: Context) -> None:
        """Per-value checks of one element, then its children."""
        if pe.fixed is not None and value != pe.fixed:
            ctx.add("error", "value", "fixed", path, f"{path} must be exactly {_show(pe.fixed)}, found {_show(value)}.",
                    value=_show(pe.fixed))
        if pe.pattern is not None and not _matches(value, pe.pattern):
            ctx.add("error", "value", "pattern", path, f"{path} must contain {_show(pe.pattern)}.",
                    value=_show(pe.pattern))
        if pe.binding is not None:
            self._binding(value, pe, path, ctx)
        if pe.target_types and isinstance(value, dict):
            ref = value.get("reference")
            if isinstance(ref, str) and "/" in ref and not ref.startswith(("urn:", "#")):
                rtype = ref.split("/")[-2] if "/_history/" not in ref else ref.split("/_history/")[0].split("/")[-2]
                self.core.check_target(rtype, pe.target_types, f"{path}.reference", ctx)
        for url in pe.type_profiles:
            ext = self.get(url)
            if ext is not None and isinstance(value, dict):
                self._item(value, None, ext.root, path, ctx)
        container = value if isinstance(value, dict) else shadow
        if pe.invariants and isinstance(value, dict):
            for inv in pe.invariants:
                if not inv.holds(value, pe.type_path, ctx.root, _always):
                    ctx.add(inv.severity, "invariant", inv.key, path, f"Constraint {inv.key} failed: {inv.human}",
                            key=inv.key, human=inv.human, **fix_values(inv.key, value))
        if not isinstance(container, dict):
            return
        for child in pe.children.values():
            self._child(container, child, path, ctx)

    def _child(self, container: dict, pe: PElement, path: str, ctx: Context) -> None:
        items = list(_collect(container, pe, path, self.core.checkers))
        count = len(items)
        location = f"{path}.{pe.name.replace('[x]', '')}"
        if count < pe.min and pe.min > pe.base_min:
            ctx.add("error", "required", "cardinality-min", location,
                    f"{location}: the profile requires {pe.min}..{_max(pe.max)}, found {count}.",
                    min=pe.min, max=_max(pe.max))
        if pe.max >= 0 and count > pe.max and (pe.base_max < 0 or pe.max < pe.base_max):
            ctx.add("error", "structure", "cardinality-max", location,
                    f"{location}: the profile allows at most {pe.max}, found {count}.", max=pe.max, count=count)
        if pe.restricted:
            for _value, _shadow, ipath, type_code in items:
                if type_code and type_code not in pe.types:
                    ctx.add("error", "structure", "type-restricted", ipath,
                            f"{ipath}: the profile allows only {', '.join(pe.types)}, not {type_code}.",
                            expected=", ".join(pe.types))
        if pe.slices:
            self._slices(items, pe, location, ctx)
        for value, shadow, ipath, _type in items:
            self._item(value, shadow, pe, ipath, ctx)

    def _slices(self, items: list, pe: PElement, location: str, ctx: Context) -> None:
        matched: dict[str, list] = {name: [] for name in pe.slices}
        dpath = pe.matchers[0][2][0][1] if pe.slice_index is not None else None
        for item in items:
            hit = (_indexed_slice(item[0], pe.slice_index, dpath) if pe.slice_index is not None
                   else _slice_of(item[0], pe.matchers))
            if hit is not None:
                matched[hit].append(item)
            elif pe.rules == "closed":
                ctx.add("error", "structure", "slice-closed", item[2],
                        f"{item[2]} matches none of the slices of {location} (closed slicing).",
                        slices=", ".join(pe.slices))
        for name, s, _tests in pe.matchers:
            got = matched[name]
            if len(got) < s.min:
                description = _describe(s, pe)
                ctx.add("error", "required", "slice-min", location,
                        f"{location}: slice '{name}' ({description}) needs {s.min}..{_max(s.max)}, found {len(got)}.",
                        slice=name, description=description, min=s.min, max=_max(s.max))
            if s.max >= 0 and len(got) > s.max:
                description = _describe(s, pe)
                ctx.add("error", "structure", "slice-max", location,
                        f"{location}: slice '{name}' ({description}) allows at most {s.max}, found {len(got)}.",
                        slice=name, max=s.max, count=len(got))
            for value, shadow, ipath, _type in got:
                self._item(value, shadow, s, ipath, ctx)

    def _binding(self, value, pe: PElement, path: str, ctx: Context) -> None:
        strength, url = pe.binding
        expansion = self.core.codes(url)
        if expansion is None:
            return
        if isinstance(value, str):
            pairs = [(None, value, path)]
        elif isinstance(value, dict) and "coding" in value and isinstance(value["coding"], list):
            pairs = [(c.get("system"), c.get("code"), f"{path}.coding[{i}]")
                     for i, c in enumerate(value["coding"]) if isinstance(c, dict)]
        elif isinstance(value, dict):
            pairs = [(value.get("system"), value.get("code"), path)]
        else:
            return
        for system, code, _p in pairs:
            if system is None and any(code in cs for cs in expansion.values()):
                return
            if system is not None and code in expansion.get(system, ()):
                return
        for system, code, cpath in pairs:
            if system is not None and system.startswith("https://sandkasse.no/") and \
                    not self.terminology.system_known(system):
                ctx.add("warning", "code-invalid", "code-system", cpath, f"Unknown code system {system}.",
                        system=system)
        got = ", ".join(f"{s}#{c}" if s else str(c) for s, c, _ in pairs) or "no code"
        self.core._binding_issue(strength, url, pairs[0][2] if len(pairs) == 1 else path,
                                 f"{got} is not in value set {url}", expansion,
                                 "binding" if isinstance(value, str) else "binding-coding", ctx)


def _dedupe(s: PElement, unsliced: PElement) -> None:
    """A slice repeats what its unsliced element says (snapshots copy it); every value is checked
    against the unsliced element anyway, so keep only what the slice adds."""
    keys = {inv.key for inv in unsliced.invariants}
    s.invariants = tuple(inv for inv in s.invariants if inv.key not in keys)
    if s.binding == unsliced.binding:
        s.binding = None
    if s.target_types == unsliced.target_types:
        s.target_types = ()
    if s.type_profiles == unsliced.type_profiles:
        s.type_profiles = ()
    if s.types == unsliced.types:
        s.restricted = False
    for name, child in s.children.items():
        twin = unsliced.children.get(name)
        if twin is not None:
            if child.fixed == twin.fixed:
                child.fixed = None
            if child.pattern == twin.pattern:
                child.pattern = None
            if (child.min, child.max) == (twin.min, twin.max):
                child.min, child.max = child.base_min, child.base_max
            _dedupe(child, twin)


def _signature(expected) -> tuple | None:
    """A hashable key for the simple discriminator values: a scalar, or one system#code."""
    if isinstance(expected, (str, int, bool)):
        return ("=", expected)
    if isinstance(expected, dict):
        coding = expected
        if set(expected) == {"coding"} and isinstance(expected["coding"], list) and len(expected["coding"]) == 1:
            coding = expected["coding"][0]
        if isinstance(coding, dict) and set(coding) == {"system", "code"}:
            return ("#", coding["system"], coding["code"])
    return None


def _index(matchers) -> dict | None:
    """signature -> slice, when every slice has one value/pattern discriminator with a simple value
    (identifier.system, component.code, category): one dict lookup per value instead of a match
    against every slice."""
    index: dict = {}
    paths = set()
    for name, _s, tests in matchers:
        if len(tests) != 1 or tests[0][0] not in ("value", "pattern"):
            return None
        kind, dpath, expected = tests[0]
        sig = _signature(expected)
        if sig is None or (kind == "value" and sig[0] == "#"):
            return None
        paths.add(dpath)
        index.setdefault((dpath,) + sig, name)
    return index if len(paths) == 1 else None


def _indexed_slice(value, index: dict, dpath: str) -> str | None:
    for actual in _navigate(value, dpath):
        if isinstance(actual, (str, int, bool)):
            hit = index.get((dpath, "=", actual))
            if hit is not None:
                return hit
        elif isinstance(actual, dict):
            codings = actual.get("coding") if "coding" in actual else [actual]
            for c in codings if isinstance(codings, list) else ():
                if isinstance(c, dict):
                    hit = index.get((dpath, "#", c.get("system"), c.get("code")))
                    if hit is not None:
                        return hit
    return None


def _slice_of(value, matchers) -> str | None:
    """The first slice whose discriminators all match `value` (value, pattern, exists, type)."""
    seen: dict[str, list] = {}
    for name, s, tests in matchers:
        for kind, dpath, expected in tests:
            if kind in ("value", "pattern"):
                if expected is None:
                    break
                actual = seen.get(dpath)
                if actual is None:
                    actual = seen[dpath] = _navigate(value, dpath)
                if not any(_matches(a, expected) for a in actual):
                    break
            elif kind == "exists":
                if not _navigate(value, dpath):
                    break
            elif kind != "type" or not isinstance(value, dict):
                break  # profile discriminators need full conformance checks: not supported
        else:
            return name
    return None


def _always(_names) -> bool:
    return True


def _prune(pe: PElement) -> None:
    """Drop elements that add nothing, so the walk touches only what the profile constrains."""
    for name in list(pe.children):
        child = pe.children[name]
        for s in child.slices.values():
            _dedupe(s, child)
        _prune(child)
        for s in child.slices.values():
            _prune(s)
        if child.is_empty() and not child.slices:
            del pe.children[name]
        elif child.slices:
            child.matchers = tuple(
                (sname, s, tuple((kind, dpath, _discriminator_value(s, dpath)) for kind, dpath in child.discriminators))
                for sname, s in child.slices.items())
            child.slice_index = _index(child.matchers)


def _collect(container: dict, pe: PElement, path: str, prims) -> Iterator[tuple[object, object, str, str | None]]:
    """(value, its _shadow, FHIRPath location, type code of a choice) for each value of pe."""
    name = pe.name
    if pe.choice_keys:
        base = name[:-3]
        for key, type_code in pe.choice_keys:
            if key in container or "_" + key in container:
                yield from _expand(container.get(key), container.get("_" + key),
                                   f"{path}.{base}.ofType({type_code})", type_code)
        return
    if name.endswith("[x]"):
        base = name[:-3]
        for key, value in container.items():
            if key.startswith(base) and len(key) > len(base) and key[len(base)].isupper():
                suffix = key[len(base):]
                lower = suffix[0].lower() + suffix[1:]
                type_code = lower if lower in prims else suffix
                yield from _expand(value, container.get("_" + key), f"{path}.{base}.ofType({type_code})", type_code)
        return
    if name in container or "_" + name in container:
        yield from _expand(container.get(name), container.get("_" + name), f"{path}.{name}", None)


def _expand(value, shadow, loc: str, type_code):
    if isinstance(value, list) or isinstance(shadow, list):
        values = value if isinstance(value, list) else []
        shadows = shadow if isinstance(shadow, list) else []
        for i in range(max(len(values), len(shadows))):
            v = values[i] if i < len(values) else None
            s = shadows[i] if i < len(shadows) else None
            yield v, s, f"{loc}[{i}]", type_code
    else:
        yield value, shadow, loc, type_code


def _navigate(value, dpath: str) -> list:
    if dpath in ("$this", ""):
        return [value]
    current = [value]
    for step in dpath.split("."):
        nxt = []
        for v in current:
            if isinstance(v, dict):
                got = v.get(step)
                if isinstance(got, list):
                    nxt.extend(got)
                elif got is not None:
                    nxt.append(got)
        current = nxt
    return current


def _discriminator_value(s: PElement, dpath: str):
    if dpath in ("$this", ""):
        return s.fixed if s.fixed is not None else s.pattern
    if dpath == "url" and s.type_profiles:
        return s.type_profiles[0]  # extension slices: the url is the extension's canonical
    node = s
    for step in dpath.split("."):
        node = node.children.get(step) or node.children.get(step + "[x]")
        if node is None:
            return None
    return node.fixed if node.fixed is not None else node.pattern


def _matches(value, pattern) -> bool:
    """FHIR pattern semantics: every property of the pattern is present with the same value;
    for arrays, every pattern item matches some item."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(k in value and _matches(value[k], v) for k, v in pattern.items())
    if isinstance(pattern, list):
        if not isinstance(value, list):
            return False
        return all(any(_matches(v, p) for v in value) for p in pattern)
    return value == pattern


def _show(value) -> str:
    if isinstance(value, dict) and "coding" in value:
        return " or ".join(f"{c.get('system')}#{c.get('code')}" for c in value["coding"])
    if isinstance(value, dict) and "code" in value and "system" in value:
        return f"{value['system']}#{value['code']}"
    return json.dumps(value, ensure_ascii=False)


def _describe(s: PElement, parent: PElement) -> str:
    for _kind, dpath in parent.discriminators:
        expected = _discriminator_value(s, dpath)
        if expected is not None:
            named = identifier_system_name(expected) if isinstance(expected, str) else None
            shown = f"{_show(expected)}, the system for a {named}" if named else _show(expected)
            return f"{dpath} = {shown}" if dpath != "$this" else shown
    return s.slice_name or ""


def _guide_resources() -> list[dict]:
    """The guide's package: through conformance.ig when it offers load_package(), else its files."""
    try:
        from conformance import ig
        return list(ig.load_package().values())
    except (ImportError, OSError, ValueError, KeyError, AttributeError):
        pass  # the guide is not built (yet): fall back to its files, or to base R4 only
    folder = Path(__file__).resolve().parent.parent / "ig" / "package"
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))
            if p.name not in ("package.json", ".index.json")] if folder.is_dir() else []
