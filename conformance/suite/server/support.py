"""What the server-role tests share: what the guide requires of a server (its CapabilityStatement,
with the element paths of guide.toml), element paths, search matching against the ground truth,
and paging through searchsets."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cache
from importlib.resources import files

import httpx

from conformance.checks import fail

PROFILE_BASE = "https://sandkasse.no/fhir/StructureDefinition/"
EXPECTATION = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-expectation"
MAX_PAGES = 200   # a server that never stops paging is a defect, not a reason to hang


class GuideError(RuntimeError):
    """The CapabilityStatement and guide.toml disagree: a defect of the guide, not of a target."""


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str           # token | reference | date
    path: str
    expectation: str = "SHALL"
    comparators: tuple[str, ...] = ()


@dataclass(frozen=True)
class TypeSpec:
    name: str
    profiles: tuple[str, ...]
    patient: str | None
    search: tuple[SearchParam, ...]
    interactions: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()
    revincludes: tuple[str, ...] = ()


@cache
def guide() -> dict:
    return tomllib.loads(files("conformance.suite.server").joinpath("guide.toml").read_text(encoding="utf-8"))


@cache
def capability() -> dict:
    """The guide's CapabilityStatement for servers (kind = requirements)."""
    from conformance import ig
    url = guide()["capability"]
    statement = ig.load_package().get(url)
    if statement is None:
        raise GuideError(f"the guide package has no CapabilityStatement {url}; rebuild it (conformance/ig/tools/build.sh)")
    return statement


def expectation(element: dict) -> str:
    """SHALL, SHOULD or MAY from the capabilitystatement-expectation extension (none: MAY)."""
    return next((e.get("valueCode") for e in element.get("extension", []) if e.get("url") == EXPECTATION), "MAY")


def _comparators(definition: str | None) -> tuple[str, ...]:
    from conformance import ig
    return tuple((ig.load_package().get(definition or "") or {}).get("comparator", ()))


def _type_spec(resource: dict) -> TypeSpec:
    name = resource["type"]
    paths = guide().get("paths", {}).get(name, {})
    search = []
    for param in resource.get("searchParam", []):
        if expectation(param) != "SHALL":
            continue
        if param["name"] not in paths:
            raise GuideError(f"guide.toml gives no element path for {name}.{param['name']}, which the "
                             f"CapabilityStatement requires; add it under [paths.{name}]")
        search.append(SearchParam(param["name"], param["type"], paths[param["name"]], "SHALL",
                                  _comparators(param.get("definition"))))
    declared = {p.name for p in search}
    for include in resource.get("searchInclude", []):
        source, _, param = include.partition(":")
        if source != name or (param not in declared and include not in guide().get("includes", {})):
            raise GuideError(f"the CapabilityStatement's _include {include} on {name} has no element path; "
                             "require the parameter or add it under [includes] in guide.toml")
    stray = sorted(set(paths) - declared)
    if stray:
        raise GuideError(f"guide.toml has paths for {name} parameters {stray} that the CapabilityStatement "
                         "does not require; remove them or require them in the guide")
    return TypeSpec(name=name,
                    profiles=tuple(p.removeprefix(PROFILE_BASE) for p in resource.get("supportedProfile", [])),
                    patient=paths.get("patient") if "patient" in declared else None,
                    search=tuple(search),
                    interactions=tuple(i["code"] for i in resource.get("interaction", []) if expectation(i) == "SHALL"),
                    includes=tuple(resource.get("searchInclude", [])),
                    revincludes=tuple(resource.get("searchRevInclude", [])))


@cache
def types() -> dict[str, TypeSpec]:
    """The types a server SHALL serve, in the CapabilityStatement's order, with their SHALL parameters."""
    rest = next(r for r in capability()["rest"] if r.get("mode") == "server")
    specs = {r["type"]: _type_spec(r) for r in rest.get("resource", []) if expectation(r) == "SHALL"}
    unknown = sorted(set(guide().get("paths", {})) - set(specs))
    if unknown:
        raise GuideError(f"guide.toml has paths for {unknown}, which the CapabilityStatement does not require")
    return specs


def include_path(rtype: str, param: str) -> str:
    """The element an _include of rtype:param follows: the parameter's, or guide.toml's [includes]."""
    found = next((p.path for p in types()[rtype].search if p.name == param), None)
    return found or guide()["includes"][f"{rtype}:{param}"]


def params(kind: str | None = None) -> list[tuple[str, SearchParam]]:
    return [(t.name, p) for t in types().values() for p in t.search if kind is None or p.type == kind]


# --- element paths --------------------------------------------------------------------------

def values(resource: dict, path: str) -> list:
    """Values at a simple path (`a.b`, `effective[x]` for choice types), lists flattened."""
    current = [resource]
    for step in path.split("."):
        found = []
        for node in current:
            if not isinstance(node, dict):
                continue
            if step.endswith("[x]"):
                stem = step[:-3]
                found += [v for k, v in node.items() if k.startswith(stem) and k[len(stem):][:1].isupper()]
            elif step in node:
                found.append(node[step])
        current = [v for item in found for v in (item if isinstance(item, list) else [item])]
    return current


def tokens(value: object) -> list[tuple[str | None, str]]:
    """(system, code) pairs of a code, Coding, CodeableConcept or Identifier."""
    if isinstance(value, str):
        return [(None, value)]
    if not isinstance(value, dict):
        return []
    if "coding" in value:
        return [t for c in value["coding"] for t in tokens(c)]
    if "code" in value:
        return [(value.get("system"), value["code"])]
    if "value" in value and isinstance(value["value"], str):
        return [(value.get("system"), value["value"])]
    return []


def token_param(system: str | None, code: str) -> str:
    return f"{system}|{code}" if system else code


def has_token(resource: dict, path: str, system: str | None, code: str) -> bool:
    return any(c == code and (system is None or s == system)
               for v in values(resource, path) for s, c in tokens(v))


# --- dates ----------------------------------------------------------------------------------

def _instant_range(text: str) -> tuple[datetime, datetime]:
    """The range of time a FHIR date/dateTime/instant stands for (a day is the whole day)."""
    if len(text) == 4:
        start = datetime(int(text), 1, 1, tzinfo=timezone.utc)
        return start, start.replace(year=start.year + 1)
    if len(text) == 7:
        y, m = int(text[:4]), int(text[5:7])
        start = datetime(y, m, 1, tzinfo=timezone.utc)
        return start, datetime(y + m // 12, m % 12 + 1, 1, tzinfo=timezone.utc)
    if len(text) == 10:
        start = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
        return start, start + timedelta(days=1)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment, moment + timedelta(seconds=1)


def date_ranges(resource: dict, path: str) -> list[tuple[datetime, datetime]]:
    out = []
    for value in values(resource, path):
        if isinstance(value, str):
            out.append(_instant_range(value))
        elif isinstance(value, dict) and ("start" in value or "end" in value):   # Period: open ends
            start = _instant_range(value["start"])[0] if "start" in value else datetime.min.replace(tzinfo=timezone.utc)
            end = _instant_range(value["end"])[1] if "end" in value else datetime.max.replace(tzinfo=timezone.utc)
            out.append((start, end))
    return out


def date_matches(resource: dict, path: str, comparator: str, day: date) -> bool:
    """FHIR date search semantics (search.html#date) for a day-precision search value."""
    s0, s1 = _instant_range(day.isoformat())
    for t0, t1 in date_ranges(resource, path):
        inside = t0 >= s0 and t1 <= s1
        if comparator == "eq" and inside:
            return True
        if comparator == "gt" and t1 > s1:
            return True
        if comparator == "lt" and t0 < s0:
            return True
        if comparator == "ge" and (t1 > s1 or inside):
            return True
        if comparator == "le" and (t0 < s0 or inside):
            return True
    return False


def pivot_day(resources: list[dict], path: str) -> date | None:
    """A day with data on both sides and no data within a day of it, so time zones cannot blur it."""
    points = sorted({t0.date() for r in resources for t0, _ in date_ranges(r, path) if t0.year > 1})
    for before, after in zip(points, points[1:]):
        if (after - before).days >= 3:
            return before + timedelta(days=(after - before).days // 2)
    return None


# --- HTTP -----------------------------------------------------------------------------------

def body(response: httpx.Response, what: str) -> dict:
    try:
        data = response.json()
    except ValueError:
        fail(f"{what} answered HTTP {response.status_code} with a body that is not JSON "
             f"(Content-Type {response.headers.get('content-type')!r}).",
             "Answer with FHIR JSON (application/fhir+json).")
    if not isinstance(data, dict):
        fail(f"{what} answered with JSON that is not a FHIR resource.", "Answer with a FHIR resource object.")
    return data


def search_all(client: httpx.Client, rtype: str, query: dict) -> tuple[list[dict], list[dict], list[int]]:
    """Run a search and follow every `next` link. Returns (matches, includes, matches per page)."""
    what = f"GET {rtype}?{httpx.QueryParams(query)}"
    response = client.get(rtype, params=query)
    matches: list[dict] = []
    includes: list[dict] = []
    page_sizes: list[int] = []
    pages = 0
    seen_urls: set[str] = set()
    while True:
        pages += 1
        if response.status_code != 200:
            outcome = _outcome_text(response)
            fail(f"{what} answered HTTP {response.status_code} on page {pages}{outcome}.",
                 f"Support the search parameters {', '.join(k for k in query if not k.startswith('_'))} on "
                 f"{rtype} as the guide requires, and declare them in the CapabilityStatement.")
        bundle = body(response, what)
        if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "searchset":
            fail(f"{what} returned a {bundle.get('resourceType')!r} of type {bundle.get('type')!r}, "
                 "not a searchset Bundle.", "Answer searches with a Bundle of type searchset.")
        before = len(matches)
        for entry in bundle.get("entry", []):
            mode = entry.get("search", {}).get("mode", "match")
            resource = entry.get("resource") or {}
            (matches if mode == "match" else includes if mode == "include" else []).append(resource)
        page_sizes.append(len(matches) - before)
        next_url = next((link.get("url") for link in bundle.get("link", []) if link.get("relation") == "next"), None)
        if not next_url:
            return matches, includes, page_sizes
        if next_url in seen_urls or pages >= MAX_PAGES:
            fail(f"{what}: the `next` links loop (page {pages} points back to {next_url}).",
                 "Make each `next` link point to the following page and leave it out on the last page.")
        seen_urls.add(next_url)
        response = client.get(next_url)


def _outcome_text(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    if isinstance(data, dict) and data.get("resourceType") == "OperationOutcome":
        texts = [i.get("details", {}).get("text") or i.get("diagnostics", "") for i in data.get("issue", [])]
        return f" ({'; '.join(t for t in texts if t)})"
    return ""


def check_same_ids(what: str, got: list[dict], expected: list[dict], fix: str) -> None:
    got_ids = [r.get("id") for r in got]
    duplicates = sorted({i for i in got_ids if got_ids.count(i) > 1})
    if duplicates:
        fail(f"{what} returned {', '.join(duplicates[:3])} more than once across pages.",
             "Page over a stable order so that each match appears on exactly one page.")
    want = {r["id"] for r in expected}
    missing, extra = sorted(want - set(got_ids)), sorted(set(got_ids) - want)
    if missing:
        fail(f"{what} missed {len(missing)} of {len(want)} matching records (recall), e.g. {missing[0]}.", fix)
    if extra:
        fail(f"{what} returned {len(extra)} records that do not match (precision), e.g. {extra[0]}.", fix)


# --- comparing with the cohort --------------------------------------------------------------

def normalise(value: object, resolve, minimised: frozenset[str]) -> object:
    """A resource as any server must serve it back: references made relative, server meta ignored."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "meta":
                item = {k: v for k, v in item.items() if k in ("profile", "security", "tag")}
                if not item:
                    continue
            elif key == "reference" and isinstance(item, str):
                item = resolve(item)
            elif key in ("extension", "modifierExtension"):
                item = [e for e in item if e.get("url") not in minimised]
                if not item:
                    continue
            out[key] = normalise(item, resolve, minimised)
        return out
    if isinstance(value, list):
        return [normalise(v, resolve, minimised) for v in value]
    return value


def first_difference(actual: object, expected: object, path: str) -> tuple[str, object, object] | None:
    """Where a served resource first differs from the cohort (elements the cohort has)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key, want in expected.items():
            diff = first_difference(actual.get(key), want, f"{path}.{key}")
            if diff:
                return diff
        return None
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (a, e) in enumerate(zip(actual, expected)):
            diff = first_difference(a, e, f"{path}[{index}]")
            if diff:
                return diff
        return None
    return None if actual == expected else (path, actual, expected)


def require_in_cohort(truth, rtype: str) -> None:
    """A type the published cohort does not contain cannot be verified: not applicable, said so."""
    import pytest
    if not truth.all(rtype):
        pytest.skip(f"not applicable: the published cohort has no {rtype}")
