"""The reference EPJ's own FHIR API (server role): the published cohort, loaded into the EPJ, served
as the guide's CapabilityStatement (sk-server) requires.

- `Index`: built once from the cohort's NDJSON files: every resource by type and id, served with
  relative references, meta.versionId and meta.lastUpdated, and withheld extensions removed
  (data minimisation); and, per required search parameter, an inverted index of its values.
- One generic search, driven by the same guide data the suite reads (`support.types()`: the
  CapabilityStatement with guide.toml's element paths): token, reference and date parameters,
  `_id`, `_lastUpdated`, `_sort`, `_count` with `next` links, `_include` and `_revinclude`.
  It answers from its inverted index, not by scanning like the suite's ground truth does, so the
  two are independent implementations of the same search semantics.
- What a reader may not see is withheld and said so, as on the platform (docs/platform.md): data
  a patient's sperring blocks for the reader's organisation or client, and internal-only notes
  (`meta.security` R) for readers outside the EPJ's own organisation. A read answers 403
  (`suppressed`); a search leaves it out and adds an OperationOutcome entry with the count.
- `fhir_api`: the blueprint, with HelseID checks (resource_server.py) when configured.

Defective variants (server_defects.yaml) switch one behaviour each, to prove the suite finds it.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from functools import cache
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlencode

import yaml
from flask import Blueprint, Response, current_app, g, request

from conformance.reference_epj.resource_server import ApiSecurity, Reader, Refusal, ResourceServer
from conformance.suite.server import support
from conformance.validator import Issue, operation_outcome

FHIR_JSON = "application/fhir+json; charset=utf-8"
DEFAULT_COUNT, MAX_COUNT = 50, 1000
RESULT_PARAMETERS = {"_count", "_offset", "_sort", "_include", "_revinclude", "_format"}
# The parameters of every type (the statement's rest.searchParam), searched like the others.
COMMON = (support.SearchParam("_id", "token", "id"),
          support.SearchParam("_lastUpdated", "date", "meta.lastUpdated", comparators=("eq", "ge", "le", "gt", "lt")))
VERSION = "1"      # the EPJ serves what it loaded: one version of each resource
RESTRICTED = ("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R")
SPERRING = "https://sandkasse.no/fhir/StructureDefinition/sk-sperring"
UTC = timezone.utc
LOW, HIGH = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


# --- configuration and defects ---------------------------------------------------------------

@dataclass(frozen=True)
class ServerDefectSpec:
    id: str
    description: str
    fails: tuple[str, ...]
    names: str


@cache
def server_defects() -> dict[str, ServerDefectSpec]:
    """The defective variants of the EPJ's FHIR API (server_defects.yaml): one behaviour each."""
    entries = yaml.safe_load(files(__package__).joinpath("server_defects.yaml").read_text(encoding="utf-8"))
    return {e["id"]: ServerDefectSpec(e["id"], e["description"], tuple(e["fails"]), str(e["names"])) for e in entries}


@dataclass(frozen=True)
class ServerConfig:
    security: ApiSecurity | None = None        # None: no token checks (development only)
    defects: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        unknown = sorted(self.defects - set(server_defects()))
        if unknown:
            raise ValueError(f"unknown server defect {unknown[0]!r}; see server_defects.yaml")

    def has(self, defect: str) -> bool:
        return defect in self.defects


# --- dates ---------------------------------------------------------------------------------

def date_range(text: str) -> tuple[datetime, datetime]:
    """The half-open range [start, end) a FHIR date, dateTime or instant stands for."""
    if len(text) == 4:
        start = datetime(int(text), 1, 1, tzinfo=UTC)
        return start, start.replace(year=start.year + 1)
    if len(text) == 7:
        year, month = int(text[:4]), int(text[5:7])
        return datetime(year, month, 1, tzinfo=UTC), datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    if len(text) == 10:
        start = datetime.fromisoformat(text).replace(tzinfo=UTC)
        return start, start + timedelta(days=1)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment, moment + timedelta(seconds=1)


def _element_ranges(value: object) -> list[tuple[datetime, datetime]]:
    if isinstance(value, str):
        return [date_range(value)]
    if isinstance(value, dict) and ("start" in value or "end" in value):     # a Period; open ends
        return [(date_range(value["start"])[0] if "start" in value else LOW,
                 date_range(value["end"])[1] if "end" in value else HIGH)]
    return []


def _date_matches(ranges: list[tuple[datetime, datetime]], comparator: str, s0: datetime, s1: datetime,
                  overlap_as_eq: bool = False) -> bool:
    """search.html#date: compare the range [s0, s1) of the search value with each range of the element."""
    for t0, t1 in ranges:
        inside = (t0 < s1 and t1 > s0) if overlap_as_eq else (t0 >= s0 and t1 <= s1)
        if {"eq": inside, "gt": t1 > s1, "lt": t0 < s0, "ge": t1 > s1 or inside, "le": t0 < s0 or inside}[comparator]:
            return True
    return False


def _date_value(rtype: str, param: support.SearchParam, item: str) -> tuple[str, datetime, datetime]:
    """(comparator, start, end) of one date search value, or a 400 that says what is wrong."""
    comparator, text = (item[:2], item[2:]) if item[:2].isalpha() else ("eq", item)
    if comparator not in param.comparators:
        raise BadSearch(Issue("error", "not-supported", f"The comparator {comparator!r} is not supported on "
                              f"{rtype}.{param.name}.", expression=param.name,
                              fix=f"Use one of {', '.join(param.comparators)}."))
    try:
        return (comparator, *date_range(text))
    except ValueError:
        raise BadSearch(Issue("error", "invalid", f"{text!r} is not a FHIR date for {rtype}.{param.name}.",
                              expression=param.name, fix="Use YYYY, YYYY-MM, YYYY-MM-DD or a dateTime with zone."))


# --- the index -----------------------------------------------------------------------------

class BadSearch(ValueError):
    def __init__(self, issue: Issue, status: int = 400) -> None:
        super().__init__(issue.message)
        self.issue, self.status = issue, status


class Index:
    """The EPJ's data as served, and an inverted index per required search parameter."""

    def __init__(self, resources: list[dict], config: ServerConfig, loaded_at: str) -> None:
        self.config = config
        self.specs = support.types()
        self.by_type: dict[str, dict[str, dict]] = {name: {} for name in self.specs}
        for resource in resources:
            if resource["resourceType"] in self.by_type:
                self.by_type[resource["resourceType"]][resource["id"]] = self._as_served(resource, loaded_at)
        self.order = {rtype: {rid: n for n, rid in enumerate(items)} for rtype, items in self.by_type.items()}
        self.keys: dict[tuple[str, str], dict[str, set[str]]] = {}       # (type, param) -> key -> ids
        self.dates: dict[tuple[str, str], dict[str, list]] = {}          # (type, param) -> id -> ranges
        for rtype, spec in self.specs.items():
            for param in (*COMMON, *spec.search):
                self._index(rtype, param.name, param.type, param.path)
        self.blocks = self._blocks()

    @classmethod
    def load(cls, cohort: Path | None, config: ServerConfig) -> "Index":
        """Read every type of the cohort's manifest once; references become Type/id."""
        resources: list[dict] = []
        if cohort is not None:
            manifest = json.loads((cohort / "manifest.json").read_text(encoding="utf-8"))
            for rtype, name in sorted(manifest.get("files", {}).items()):
                if rtype[:1].isupper():
                    with (cohort / name).open(encoding="utf-8") as lines:
                        resources += [json.loads(line) for line in lines if line.strip()]
        types = {r["id"]: r["resourceType"] for r in resources}
        loaded_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        return cls([_relative(r, types) for r in resources], config, loaded_at)

    def _as_served(self, resource: dict, loaded_at: str) -> dict:
        served = dict(resource)
        served["meta"] = {**resource.get("meta", {}), "lastUpdated": loaded_at}
        if not self.config.has("no-version-id"):
            served["meta"]["versionId"] = VERSION
        withheld = set() if self.config.has("serves-free-text") else set(support.guide()["minimised_extensions"])
        if "extension" in served:
            served["extension"] = [e for e in served["extension"] if e.get("url") not in withheld]
            if not served["extension"]:
                del served["extension"]
        if self.config.has("wrong-identifier-system") and served["resourceType"] == "Organization":
            served["identifier"] = [{**i, "system": "https://epj.example.no/id/organisasjon"}
                                    if i.get("system") == "urn:oid:2.16.578.1.12.4.1.4.101" else i
                                    for i in served.get("identifier", [])]
        return served

    def _index(self, rtype: str, name: str, kind: str, path: str) -> None:
        keys: dict[str, set[str]] = {}
        dates: dict[str, list] = {}
        for rid, resource in self.by_type[rtype].items():
            for value in support.values(resource, path):
                if kind == "token":
                    for system, code in support.tokens(value):
                        for key in (code, f"{system or ''}|{code}"):
                            keys.setdefault(key, set()).add(rid)
                elif kind == "reference" and isinstance(value, dict) and isinstance(value.get("reference"), str):
                    ref = value["reference"]
                    for key in (ref, ref.rsplit("/", 1)[-1]):
                        keys.setdefault(key, set()).add(rid)
                elif kind == "date":
                    dates.setdefault(rid, []).extend(_element_ranges(value))
        if kind == "date":
            self.dates[(rtype, name)] = dates
        else:
            self.keys[(rtype, name)] = keys

    # -- what a reader may not see ------------------------------------------------------------

    def _blocks(self) -> dict[str, list[tuple[frozenset[str], frozenset[str] | None, frozenset[str] | None]]]:
        """Per patient id, each active sperring: (blocked parties, types or None, resources or None)."""
        blocks: dict[str, list] = {}
        for consent in self.by_type.get("Consent", {}).values():
            provision = consent.get("provision") or {}
            if SPERRING not in consent["meta"].get("profile", []) or consent.get("status") != "active" \
                    or provision.get("type") != "deny":
                continue
            parties = frozenset(p for actor in provision.get("actor", []) for p in self._parties(actor.get("reference") or {}))
            types = frozenset(c.get("code") for c in provision.get("class", [])) or None
            data = frozenset(d["reference"]["reference"] for d in provision.get("data", [])
                             if isinstance((d.get("reference") or {}).get("reference"), str)) or None
            patient = (consent.get("patient") or {}).get("reference", "").rsplit("/", 1)[-1]
            blocks.setdefault(patient, []).append((parties, types, data))
        return blocks

    def _parties(self, reference: dict) -> list[str]:
        """The identifiers a blocked party is known by: given inline, or those of the Organization
        or Practitioner referred to (organisasjonsnummer, HPR-nummer, client id)."""
        if isinstance(reference.get("identifier"), dict):
            return [reference["identifier"].get("value", "")]
        target = self.resolve(reference.get("reference", "")) or {}
        return [i.get("value", "") for i in target.get("identifier", [])]

    def withheld(self, resource: dict, reader: Reader) -> str | None:
        """Why the reader may not see this resource (a rule id), or None."""
        rtype = resource["resourceType"]
        labels = {(s.get("system"), s.get("code")) for s in resource["meta"].get("security", [])}
        if RESTRICTED in labels and not reader.own:
            return "sk-epj-restricted"
        patient_path = self.specs[rtype].patient if rtype in self.specs else None
        if not patient_path or not reader.parties:
            return None
        for value in support.values(resource, patient_path):
            patient = str(value.get("reference", "")).rsplit("/", 1)[-1] if isinstance(value, dict) else ""
            for parties, types, data in self.blocks.get(patient, ()):
                if parties & reader.parties and (types is None or rtype in types) \
                        and (data is None or f"{rtype}/{resource['id']}" in data):
                    return "sk-epj-sperring"
        return None

    # -- read -------------------------------------------------------------------------------

    def read(self, rtype: str, rid: str) -> dict | None:
        return self.by_type.get(rtype, {}).get(rid)

    def resolve(self, reference: str) -> dict | None:
        rtype, _, rid = reference.rpartition("/")
        return self.read(rtype.rsplit("/", 1)[-1], rid)

    # -- search -----------------------------------------------------------------------------

    def search(self, rtype: str, args: list[tuple[str, str]], strict: bool) -> list[dict]:
        """The matches in the requested order (parameters AND, comma-separated values OR)."""
        params = {p.name: p for p in (*COMMON, *self.specs[rtype].search)}
        ids: set[str] | None = None
        for name, value in args:
            if name in RESULT_PARAMETERS:
                continue
            if name not in params:      # modifiers (name:exact, …) are not among what the guide requires
                if strict or ":" in name:
                    raise BadSearch(Issue("error", "not-supported", f"{rtype} has no search parameter {name!r}.",
                                          expression=name, fix=f"Use the parameters of GET [base]/metadata: "
                                                               f"{', '.join(params)}."))
                continue      # lenient (the default): an unknown parameter is ignored
            if name == "_lastUpdated" and self.config.has("ignores-last-updated"):
                continue
            found = self._matching(rtype, params[name], value)
            ids = found if ids is None else ids & found
        pool = self.by_type[rtype]
        chosen = [pool[i] for i in (ids if ids is not None else pool)]
        return self._sorted(rtype, chosen, dict(args).get("_sort"))

    def _matching(self, rtype: str, param: support.SearchParam, value: str) -> set[str]:
        out: set[str] = set()
        if param.type == "date":
            overlap = self.config.has("date-eq-as-overlap")
            for item in value.split(","):
                comparator, s0, s1 = _date_value(rtype, param, item)
                out |= {rid for rid, ranges in self.dates[(rtype, param.name)].items()
                        if _date_matches(ranges, comparator, s0, s1, overlap)}
            return out
        keys = self.keys[(rtype, param.name)]
        for item in value.split(","):
            if param.type == "reference" and "://" in item:        # an absolute URL of this server
                item = "/".join(item.rstrip("/").split("/")[-2:])
            out |= keys.get(item, set())
        return out

    def _sorted(self, rtype: str, resources: list[dict], sort: str | None) -> list[dict]:
        order = self.order[rtype]
        resources.sort(key=lambda r: order[r["id"]])          # stable paging: the load order
        for field_name in reversed((sort or "").split(",")):
            if not field_name:
                continue
            name = field_name.lstrip("-")
            if name == "_id":
                key = lambda r: r["id"]                                                  # noqa: E731
            elif (rtype, name) in self.dates:
                dates = self.dates[(rtype, name)]
                key = lambda r: min((t0 for t0, _ in dates.get(r["id"], [])), default=HIGH)   # noqa: E731
            else:
                raise BadSearch(Issue("error", "not-supported", f"{rtype} cannot be sorted by {name!r}.",
                                      expression="_sort", fix="Sort by _id, _lastUpdated or a date parameter."))
            resources.sort(key=key, reverse=field_name.startswith("-"))
        return resources

    def included(self, rtype: str, page: list[dict], includes: list[str], revincludes: list[str]) -> list[dict]:
        """What _include and _revinclude add to a page (each resource once, never a match again)."""
        seen = {(rtype, r["id"]) for r in page}
        out: list[dict] = []

        def add(resource: dict | None) -> None:
            if resource and (resource["resourceType"], resource["id"]) not in seen:
                seen.add((resource["resourceType"], resource["id"]))
                out.append(resource)

        spec = self.specs[rtype]
        for include in includes:
            source, _, name = include.partition(":")
            if source != rtype or include not in spec.includes:
                raise BadSearch(Issue("error", "not-supported", f"_include={include} is not supported on {rtype}.",
                                      expression="_include", fix=f"Use one of {', '.join(spec.includes)}."))
            path = support.include_path(rtype, name)
            for resource in page:
                for value in support.values(resource, path):
                    if isinstance(value, dict) and isinstance(value.get("reference"), str):
                        add(self.resolve(value["reference"]))
        if self.config.has("ignores-revinclude"):
            return out
        for revinclude in revincludes:
            source, _, name = revinclude.partition(":")
            if revinclude not in spec.revincludes or (source, name) not in self.keys:
                raise BadSearch(Issue("error", "not-supported", f"_revinclude={revinclude} is not supported on "
                                      f"{rtype}.", expression="_revinclude",
                                      fix=f"Use one of {', '.join(spec.revincludes)}."))
            keys = self.keys[(source, name)]
            for resource in page:
                for rid in sorted(keys.get(f"{rtype}/{resource['id']}", ()), key=self.order[source].get):
                    add(self.by_type[source][rid])
        return out


def _relative(value: object, types: dict[str, str]) -> object:
    """`urn:uuid:<id>` references of a transaction become `Type/<id>` once loaded."""
    if isinstance(value, dict):
        out = {k: _relative(v, types) for k, v in value.items()}
        ref = out.get("reference")
        if isinstance(ref, str) and ref.startswith("urn:uuid:") and ref[9:] in types:
            out["reference"] = f"{types[ref[9:]]}/{ref[9:]}"
        return out
    if isinstance(value, list):
        return [_relative(v, types) for v in value]
    return value


# --- the CapabilityStatement of this EPJ -----------------------------------------------------

def capability_statement(base_url: str, config: ServerConfig) -> dict:
    """The guide's requirements (sk-server) as this instance implements them: every required type,
    interaction, parameter and include, without the expectation extensions."""
    guide = support.capability()
    rest = next(r for r in guide["rest"] if r.get("mode") == "server")
    resources = [{k: v for k, v in r.items() if k != "extension"} | {
        "interaction": [{"code": i["code"]} for i in r.get("interaction", [])],
        "searchParam": [{k: v for k, v in p.items() if k != "extension"} for p in r.get("searchParam", [])],
    } for r in rest["resource"]]
    security = {"cors": False, "description": "No token checks: development only."}
    if config.security:
        security = {**rest["security"], "description": f"HelseID ({config.security.issuer}), audience "
                                                       f"{config.security.audience}, DPoP-bound tokens. "
                                                       + rest["security"]["description"]}
    return {
        "resourceType": "CapabilityStatement", "status": "active", "date": "2026-11-23", "kind": "instance",
        "instantiates": [guide["url"]],
        "software": {"name": "sandkasse reference EPJ"},
        "implementation": {"description": "the reference EPJ's own FHIR API", "url": base_url},
        "fhirVersion": "4.0.1", "format": ["application/fhir+json", "json"],
        "rest": [{"mode": "server", "documentation": rest.get("documentation", ""), "security": security,
                  "resource": resources,
                  "searchParam": [{k: v for k, v in p.items() if k != "extension"} for p in rest.get("searchParam", [])]}],
    }


# --- HTTP ----------------------------------------------------------------------------------

fhir_api = Blueprint("epj_fhir_api", __name__, url_prefix="/fhir")


@dataclass
class Served:
    """What the blueprint needs, kept on the app (app.extensions["reference_epj.server"])."""
    config: ServerConfig
    index: Index
    guard: ResourceServer | None


# The security defects switch off one check of the resource server each.
_SECURITY_SKIPS = {"accepts-expired-token": "exp", "accepts-unbound-token": "cnf", "any-organisation": "organisation"}


def install(app, cohort: Path | None, config: ServerConfig) -> None:
    guard = None
    if config.security:
        skip = frozenset(check for defect, check in _SECURITY_SKIPS.items() if config.has(defect))
        guard = ResourceServer(replace(config.security, skip=config.security.skip | skip))
    app.extensions["reference_epj.server"] = Served(config, Index.load(cohort, config), guard)
    app.register_blueprint(fhir_api)


def _served() -> Served:
    return current_app.extensions["reference_epj.server"]


def _fhir(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type=FHIR_JSON, headers=headers)


def _error(status: int, issue: Issue, headers: dict | None = None) -> Response:
    return _fhir(operation_outcome([issue]), status, headers)


def _base() -> str:
    return request.host_url.rstrip("/") + "/fhir/"


@fhir_api.before_request
def _authorize() -> Response | None:
    served = _served()
    g.reader = Reader()
    if served.guard is None or request.endpoint == "epj_fhir_api.metadata":
        return None
    try:
        claims = served.guard.check(request.method, request.url, request.headers.get("Authorization"),
                                    request.headers.get("DPoP"))
    except Refusal as refusal:
        headers = {"WWW-Authenticate": refusal.www_authenticate()}
        code = "login" if refusal.status == 401 else "forbidden"
        return _error(refusal.status, Issue("error", code, refusal.description, fix=refusal.fix), headers)
    g.reader = served.guard.reader(claims)
    return None


def _suppressed(resource: dict) -> Response | None:
    """403 for what the reader may not see: it must learn that something is withheld."""
    rule = _served().index.withheld(resource, g.reader)
    if rule is None:
        return None
    what = "blocked by the patient's sperring" if rule == "sk-epj-sperring" else "an internal note of the EPJ"
    return _error(403, Issue("error", "suppressed", f"{resource['resourceType']}/{resource['id']} is {what}.",
                             rule=rule, fix="Tell the user that information is withheld; do not show the "
                                            "record as complete."))


@fhir_api.get("/metadata")
def metadata() -> Response:
    return _fhir(capability_statement(_base(), _served().config))


def _unknown_type(rtype: str) -> Response | None:
    if rtype in _served().index.by_type:
        return None
    return _error(404, Issue("error", "not-supported", f"This EPJ does not serve {rtype}.",
                             fix=f"Use a type of GET [base]/metadata: {', '.join(_served().index.by_type)}."))


def _not_here(rtype: str, rid: str) -> Response:
    return _unknown_type(rtype) or _error(404, Issue("error", "not-found", f"{rtype}/{rid} is not in this EPJ.",
                                                     fix=f"Search {rtype} to find the ids this EPJ has."))


@fhir_api.get("/<rtype>/<rid>")
def read(rtype: str, rid: str) -> Response:
    resource = _served().index.read(rtype, rid)
    if resource is None:
        return _not_here(rtype, rid)
    return _suppressed(resource) or _fhir(resource, headers={"ETag": f'W/"{VERSION}"'})


@fhir_api.get("/<rtype>/<rid>/_history/<vid>")
def vread(rtype: str, rid: str, vid: str) -> Response:
    resource = _served().index.read(rtype, rid)
    if resource is None or vid != resource["meta"].get("versionId"):
        return _unknown_type(rtype) or _error(404, Issue("error", "not-found", f"{rtype}/{rid} has no version {vid}.",
                                                         fix=f"Read {rtype}/{rid} for its current versionId."))
    return _suppressed(resource) or _fhir(resource)


@fhir_api.get("/<rtype>/<rid>/_history")
def history(rtype: str, rid: str) -> Response:
    resource = _served().index.read(rtype, rid)
    if resource is None:
        return _not_here(rtype, rid)
    if (suppressed := _suppressed(resource)) is not None:
        return suppressed
    return _fhir({"resourceType": "Bundle", "type": "history", "total": 1,
                  "entry": [{"fullUrl": f"{_base()}{rtype}/{rid}", "resource": resource,
                             "request": {"method": "PUT", "url": f"{rtype}/{rid}"},
                             "response": {"status": "200"}}]})


@fhir_api.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def elsewhere(rest: str) -> Response:
    """Anything else under /fhir: an OperationOutcome, never a bare HTML error page."""
    if request.method != "GET":
        return _error(405, Issue("error", "not-supported", f"{request.method} is not supported: this FHIR API is "
                                 "read-only; the EPJ writes to the platform's intake.",
                                 fix="Use GET: read, vread, history and search."), {"Allow": "GET"})
    return _error(404, Issue("error", "not-found", f"There is nothing at [base]/{rest}.",
                             fix="Use [base]/<Type>, [base]/<Type>/<id>[/_history[/<vid>]] or [base]/metadata."))


@fhir_api.get("/<rtype>")
def search(rtype: str) -> Response:
    served = _served()
    if (unknown := _unknown_type(rtype)) is not None:
        return unknown
    args = list(request.args.items(multi=True))
    strict = "handling=strict" in request.headers.get("Prefer", "").replace(" ", "")
    try:
        count = min(int(request.args.get("_count", DEFAULT_COUNT)), MAX_COUNT)
        offset = max(int(request.args.get("_offset", 0)), 0)
        if count < 0:
            raise ValueError
    except ValueError:
        return _error(400, Issue("error", "invalid", "_count and _offset must be non-negative whole numbers.",
                                 expression="_count", fix="Use e.g. _count=50."))
    try:
        found = served.index.search(rtype, args, strict)
        # Withheld before paging, so that pages and total count only what this reader may see.
        matches = [r for r in found if served.index.withheld(r, g.reader) is None]
        if served.config.has("ignores-paging"):
            count, offset = len(matches), 0
        page = matches[offset:offset + count]
        included = [r for r in served.index.included(rtype, page, request.args.getlist("_include"),
                                                     request.args.getlist("_revinclude"))
                    if served.index.withheld(r, g.reader) is None]
    except BadSearch as bad:
        return _error(bad.status, bad.issue)
    bundle = _searchset(rtype, args, matches, page, included, count, offset)
    if len(found) > len(matches):
        notice = Issue("information", "suppressed", f"{len(found) - len(matches)} matching {rtype} are withheld from "
                       "you (sperring or internal notes) and not counted in total.",
                       fix="Tell the user that information is withheld; do not show the list as complete.")
        bundle["entry"].append({"resource": operation_outcome([notice]), "search": {"mode": "outcome"}})
    return _fhir(bundle)


def _searchset(rtype: str, args: list[tuple[str, str]], matches: list[dict], page: list[dict],
               included: list[dict], count: int, offset: int) -> dict:
    def link(relation: str, at: int) -> dict:
        query = [(k, v) for k, v in args if k not in ("_offset", "_count")] + [("_count", str(count)), ("_offset", str(at))]
        return {"relation": relation, "url": f"{_base()}{rtype}?{urlencode(query)}"}
    links = [link("self", offset)]
    if offset + count < len(matches) and count > 0:
        links.append(link("next", offset + count))
    base = _base()
    return {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "searchset", "total": len(matches),
            "link": links,
            "entry": [{"fullUrl": f"{base}{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": mode}}
                      for mode, items in (("match", page), ("include", included)) for r in items]}
