"""Must-support coverage (Inferno's AllMustSupportsPresent): every mustSupport element of a profile,
read from the guide's package snapshots, appears in at least one resource the target served."""
from __future__ import annotations

from functools import cache


@cache
def profile(url: str) -> dict | None:
    try:
        from conformance import ig
        return ig.load_package().get(url)
    except (ImportError, AttributeError, FileNotFoundError):
        return None


def must_support_paths(structure: dict, withheld: frozenset[str] = frozenset()) -> list[dict]:
    """Snapshot elements flagged mustSupport (root excluded), except extensions the guide has a
    server withhold by default (data minimisation wins over must-support for what is served)."""
    elements = structure.get("snapshot", {}).get("element", [])
    withheld_ids = {e["id"] for e in elements if "id" in e and
                    any(p in withheld for t in e.get("type", []) for p in t.get("profile", []))}
    return [e for e in elements if e.get("mustSupport") and "." in e.get("path", "")
            and not any(e.get("id", "") == w or e.get("id", "").startswith(w + ".") for w in withheld_ids)]


def _slice_matcher(structure: dict, element_id: str):
    """A predicate for the items of a slice, from its discriminator's fixed/pattern value or its url."""
    elements = {e["id"]: e for e in structure.get("snapshot", {}).get("element", []) if "id" in e}
    base_id = element_id.rsplit(":", 1)[0]
    sliced = elements.get(base_id, {})
    discriminators = sliced.get("slicing", {}).get("discriminator", [])
    slice_el = elements.get(element_id, {})
    checks = []
    for disc in discriminators:
        path = disc.get("path", "")
        if path == "url":
            urls = [p for t in slice_el.get("type", []) for p in t.get("profile", [])]
            if urls:
                checks.append(lambda item, urls=urls: item.get("url") in urls)
            continue
        child = elements.get(f"{element_id}.{path}", {})
        fixed = next((v for k, v in child.items() if k.startswith(("fixed", "pattern"))), None)
        if fixed is None:
            continue
        checks.append(lambda item, path=path, fixed=fixed: _contains(_dig(item, path), fixed))
    return (lambda item: all(c(item) for c in checks)) if checks else (lambda item: True)


def _dig(item: object, path: str) -> list:
    current = [item]
    for step in path.split("."):
        if step == "$this":
            continue
        current = [v for node in current if isinstance(node, dict) and step in node
                   for v in (node[step] if isinstance(node[step], list) else [node[step]])]
    return current


def _contains(values: list, pattern: object) -> bool:
    return any(_match(v, pattern) for v in values)


def _match(value: object, pattern: object) -> bool:
    """FHIR pattern semantics: every element of the pattern is present in the value."""
    if not isinstance(pattern, dict):
        return value == pattern
    if not isinstance(value, dict):
        return False
    for key, want in pattern.items():
        have = value.get(key)
        have = have if isinstance(have, list) else ([] if have is None else [have])
        wants = want if isinstance(want, list) else [want]
        if not all(any(_match(h, w) for h in have) for w in wants):
            return False
    return True


def present(resource: dict, structure: dict, element_id: str) -> bool:
    """Is the element (id like `EpisodeOfCare.extension:vedtakstimer.value[x]`) present in the resource?"""
    steps = element_id.split(".")[1:]
    nodes: list = [resource]
    prefix = element_id.split(".")[0]
    for step in steps:
        name, _, slice_name = step.partition(":")
        prefix = f"{prefix}.{step}"
        found = []
        for node in nodes:
            if not isinstance(node, dict):
                continue
            if name.endswith("[x]"):
                stem = name[:-3]
                items = [v for k, v in node.items() if k.startswith(stem) and k[len(stem):][:1].isupper()]
            else:
                items = [node[name]] if name in node else []
            items = [v for item in items for v in (item if isinstance(item, list) else [item])]
            if slice_name:
                matcher = _slice_matcher(structure, prefix)
                items = [i for i in items if isinstance(i, dict) and matcher(i)]
            found += items
        nodes = found
        if not nodes:
            return False
    return True
