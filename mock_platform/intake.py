"""The intake (meldingsmottak): what a source system sends becomes a list of checked writes.

A transaction Bundle and a single create/update/delete take the same path: every entry is
validated with the platform's validator and the platform rules, ALL problems are collected, and
if there is any error the whole write is refused (nothing is stored). Otherwise the writes are
appended to the event store as one event (storage.append), where the checks that depend on the
current state (source-system ownership, If-Match, patient of an existing resource) run inside the
same transaction.
"""
from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict

from conformance.validator import Issue, Validator, is_error
from mock_platform import rules, search
from mock_platform.errors import FhirError
from mock_platform.searchparams import PLATFORM_WRITTEN, index, registry
from mock_platform.storage import SqlStorage, Write

WRITE_METHODS = ("POST", "PUT", "DELETE")


@dataclass
class Entry:
    location: str                 # FHIRPath of the resource in the request, e.g. Bundle.entry[3].resource
    method: str
    rtype: str
    rid: str
    resource: dict | None
    if_match: str | None = None
    if_none_exist: str | None = None
    full_url: str | None = None


def bundle_entries(bundle: object) -> list[Entry]:
    """The entries of a transaction Bundle; structural problems of any entry refuse the Bundle."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirError(400, Issue("error", "structure", "The body is not a FHIR Bundle.", "Bundle",
                                   rule="sk-platform-intake",
                                   fix='POST a Bundle with "type": "transaction" as application/fhir+json.'))
    if bundle.get("type") != "transaction":
        raise FhirError(400, Issue("error", "not-supported", f"Bundle.type {bundle.get('type')!r} is not accepted "
                                   "at the intake.", "Bundle.type", rule="sk-platform-intake",
                                   fix='Send "type": "transaction": the intake stores a Bundle whole or not at all.'))
    raw = bundle.get("entry") or []
    if not isinstance(raw, list) or not raw:
        raise FhirError(400, Issue("error", "required", "The transaction Bundle has no entries.", "Bundle.entry",
                                   rule="sk-platform-intake", fix="Add one entry per resource to create or update."))
    entries, issues = [], []
    for i, item in enumerate(raw):
        where = f"Bundle.entry[{i}]"
        try:
            entries.append(_entry(item, where))
        except FhirError as error:
            issues += error.issues
    if issues:
        raise FhirError(422, issues)
    return entries


def _entry(item: object, where: str) -> Entry:
    if not isinstance(item, dict):
        raise _invalid(where, "The entry is not a JSON object.", "Each entry needs resource and request.")
    request = item.get("request") or {}
    if not isinstance(request, dict):
        raise _invalid(f"{where}.request", f"The entry's request is {type(request).__name__}, not an object.",
                       'Give the entry a request object, e.g. {"method": "PUT", "url": "Patient/123"}.')
    resource = item.get("resource")
    # Without request, an entry is a PUT of its resource by id (what a cohort file carries).
    method = str(request.get("method") or ("PUT" if isinstance(resource, dict) else ""))
    url = str(request.get("url") or "")
    if method not in WRITE_METHODS:
        raise _invalid(f"{where}.request.method", f"The method {method or 'is missing; it'!s} is not accepted in a "
                       "transaction here.", "Use POST (create), PUT Type/id (create or update) or DELETE Type/id.")
    path, _, query = url.partition("?")
    parts = [p for p in path.split("/") if p]
    if method == "DELETE":
        if len(parts) != 2:
            raise _invalid(f"{where}.request.url", f"DELETE needs request.url Type/id, not {url!r}.",
                           "Give the resource to delete as Type/id.")
        return Entry(f"{where}.request", method, parts[0], parts[1], None)
    if not isinstance(resource, dict):
        raise _invalid(f"{where}.resource", "The entry has no resource.", f"{method} needs the resource to store.")
    rtype = resource.get("resourceType")
    if method == "PUT":
        rid = parts[1] if len(parts) == 2 else resource.get("id")
        if not isinstance(rid, str) or not rid:
            raise _invalid(f"{where}.resource", "A PUT entry needs the resource id (request.url Type/id).",
                           "Give the resource an id and request.url Type/id; or use POST to let the platform "
                           "assign one.")
        if parts and parts[0] != rtype:
            raise _invalid(f"{where}.request.url", f"request.url names {parts[0]} but the resource is {rtype}.",
                           "Make request.url Type/id match the resource.")
        if resource.get("id") not in (None, rid):
            raise _invalid(f"{where}.resource.id", f"The resource id {resource.get('id')!r} differs from request.url "
                           f"id {rid!r}.", "Use the same id in the resource and in request.url.")
    else:
        rid = uuid.uuid4().hex  # POST: the platform assigns the id
    return Entry(f"{where}.resource", method, str(rtype), rid, resource, request.get("ifMatch"),
                 request.get("ifNoneExist") or (query if method == "POST" and query else None), item.get("fullUrl"))


def _invalid(where: str, message: str, fix: str) -> FhirError:
    return FhirError(422, Issue("error", "invalid", message, where, rule="sk-platform-intake", fix=fix))


def prepare(storage: SqlStorage, tenant: str, entries: list[Entry]) -> list[Write]:
    """Validate entries and apply the stateless platform rules; raise with every problem found."""
    issues: list[Issue] = []
    targets = _targets(entries)
    validator = Validator.default()
    writes: list[Write] = []
    in_request: dict[str, dict] = {}
    for entry in entries:
        if entry.rtype not in registry():
            issues.append(_type_issue(entry))
            continue
        if entry.resource is None:
            writes.append(Write(entry.method, entry.rtype, entry.rid, location=entry.location,
                                if_match=_etag(entry, issues)))
            continue
        resource = _rewrite_references(dict(entry.resource, id=entry.rid), targets)
        for issue in validator.validate(resource):
            if is_error(issue):
                issues.append(dataclasses.replace(issue, expression=_located(issue.expression, entry)))
        issues += rules.real_data_issues(resource, entry.location)
        in_request[f"{entry.rtype}/{entry.rid}"] = resource
        writes.append(Write(entry.method, entry.rtype, entry.rid, resource, index(resource), location=entry.location,
                            if_match=_etag(entry, issues),
                            if_none_exist=_condition(tenant, entry, issues)))
    issues += rules.patient_consistency(
        [(w.location, w.index.patient) for w in writes if w.index is not None],
        lambda patient: patient in in_request or _exists(storage, tenant, patient))
    if any(is_error(i) for i in issues):
        raise FhirError(422, issues)

    def resolve(reference: str) -> dict | None:
        if reference in in_request:
            return in_request[reference]
        rtype, _, rid = reference.partition("/")
        stored = storage.read(tenant, rtype, rid)
        return stored.resource if stored and not stored.deleted else None

    for write in writes:
        if write.rtype == "Consent" and write.resource is not None:
            write.blocks = rules.blocks_of(write.resource, resolve)
    return writes


def _type_issue(entry: Entry) -> Issue:
    if entry.rtype in PLATFORM_WRITTEN:
        return Issue("error", "forbidden", f"{entry.rtype} is written by the platform itself.", entry.location,
                     rule="sk-platform-audit", fix="Do not send AuditEvents; the platform records every access.")
    return Issue("error", "not-supported", f"The platform has no information service for {entry.rtype!r}.",
                 entry.location, rule="sk-platform-intake",
                 fix=f"Send one of: {', '.join(registry())} (see GET [base]/metadata).")


def _exists(storage: SqlStorage, tenant: str, reference: str) -> bool:
    rtype, _, rid = reference.partition("/")
    stored = storage.read(tenant, rtype, rid)
    return stored is not None and not stored.deleted


def _located(expression: str | None, entry: Entry) -> str:
    """The validator's expression (Type.path) placed inside the request (Bundle.entry[i].resource.path)."""
    if not expression:
        return entry.location
    if expression.startswith(entry.rtype):
        return entry.location + expression[len(entry.rtype):]
    return f"{entry.location}.{expression}"


def _targets(entries: list[Entry]) -> dict[str, str]:
    """fullUrl → Type/id, so references between entries point at the stored resources."""
    return {e.full_url: f"{e.rtype}/{e.rid}" for e in entries if e.full_url and e.resource is not None}


def _rewrite_references(value: object, targets: dict[str, str]) -> object:
    """The value with references to other entries' fullUrls pointing at their Type/id. Only the
    dicts and lists on the way to a rewritten reference are copied; an untouched part (most of a
    resource, usually all of it) is returned as it is."""
    if not targets:
        return value
    if isinstance(value, dict):
        out = None
        for key, item in value.items():
            new = _rewrite_references(item, targets) if isinstance(item, (dict, list)) else item
            if key == "reference" and isinstance(item, str) and item in targets:
                new = targets[item]
            if new is not item:
                out = out if out is not None else dict(value)
                out[key] = new
        return value if out is None else out
    if isinstance(value, list):
        items = [_rewrite_references(v, targets) for v in value]
        return value if all(a is b for a, b in zip(items, value)) else items
    return value


def _etag(entry: Entry, issues: list[Issue]) -> int | None:
    if not entry.if_match:
        return None
    text = entry.if_match.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit()):
        issues.append(Issue("error", "invalid", f"If-Match {entry.if_match!r} is not an ETag of this platform.",
                            entry.location, rule="sk-platform-version-conflict",
                            fix='Send the ETag from the last read, e.g. If-Match: W/"3".'))
        return None
    return int(text)


def _condition(tenant: str, entry: Entry, issues: list[Issue]):
    if not entry.if_none_exist or entry.method != "POST":
        return None
    try:
        parsed = search.parse(tenant, entry.rtype, MultiDict(parse_qsl(entry.if_none_exist.lstrip("?"))))
    except FhirError as error:
        issues += [dataclasses.replace(i, expression=entry.location) for i in error.issues]
        return None
    if not parsed.query.where:
        issues.append(Issue("error", "required", "If-None-Exist has no search criteria.", entry.location,
                            rule="sk-platform-conditional-create", fix="Use e.g. If-None-Exist: identifier=system|value."))
        return None
    parsed.query.count = 2
    return parsed.query
