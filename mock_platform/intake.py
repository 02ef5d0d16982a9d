"""The intake (meldingsmottak): what a source system sends becomes a list of checked writes.

A transaction Bundle, a message (Bundle type message, at $process-message) and a single
create/update/delete take the same path: every entry is validated with the platform's validator
and the platform rules, ALL problems are collected, and if there is any error the whole write is
refused (nothing is stored). Otherwise the writes are appended to the event store as one event
(storage.append), where the checks that depend on the current state (source-system ownership,
If-Match, patient of an existing resource) run inside the same transaction.

A message is recognised when it is sent again (FHIR messaging's reliable delivery): the event it
became names it, so a resend is answered again from that event instead of being stored twice.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Sequence
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


@dataclass(frozen=True)
class _Kind:
    """A kind of Bundle the intake takes, and where it goes."""
    url: str            # where it is POSTed
    type_fix: str       # the fix for a Bundle of another type (not the other kind the intake takes)
    empty_fix: str


_KINDS = {
    "transaction": _Kind("[base]", 'Send "type": "transaction": the intake stores a Bundle whole or not at all.',
                         "Add one entry per resource to create or update."),
    "message": _Kind("[base]/$process-message", 'Send "type": "message" with a MessageHeader as the first entry.',
                     "Start with the MessageHeader, then one entry (with fullUrl) per resource."),
}


def bundle_entries(bundle: object) -> list[Entry]:
    """The entries of a transaction Bundle; structural problems of any entry refuse the Bundle."""
    entries, issues = _parsed(_entries_of(bundle, "transaction"), _entry)
    if issues:
        raise FhirError(422, issues)
    return entries


def _entries_of(bundle: object, kind: str) -> list:
    """The entry list of a Bundle of this kind; any other body is refused whole (400)."""
    expected = _KINDS[kind]
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirError(400, Issue("error", "structure", "The body is not a FHIR Bundle.", "Bundle",
                                   rule="sk-platform-intake",
                                   fix=f'POST a Bundle with "type": "{kind}" as application/fhir+json.'))
    sent = bundle.get("type")
    if sent != kind:
        if sent in _KINDS:      # the other kind the intake takes, sent to the wrong address
            raise FhirError(400, Issue("error", "not-supported", f"A {sent} Bundle is not accepted at {expected.url}.",
                                       "Bundle.type", rule="sk-platform-intake",
                                       fix=f"POST the {sent} to {_KINDS[sent].url}; {expected.url} takes a {kind}."))
        raise FhirError(400, Issue("error", "not-supported", f"Bundle.type {sent!r} is not accepted at the intake.",
                                   "Bundle.type", rule="sk-platform-intake", fix=expected.type_fix))
    raw = bundle.get("entry") or []
    if not isinstance(raw, list) or not raw:
        raise FhirError(400, Issue("error", "required", f"The {kind} Bundle has no entries.", "Bundle.entry",
                                   rule="sk-platform-intake", fix=expected.empty_fix))
    return raw


def _parsed(raw: list, parse: Callable[[object, str], Entry], skip: frozenset[int] = frozenset()) \
        -> tuple[list[Entry], list[Issue]]:
    """Each entry parsed, with the problems of every entry (not just the first one's)."""
    entries, issues = [], []
    for i, item in enumerate(raw):
        if i in skip:
            continue
        try:
            entries.append(parse(item, f"Bundle.entry[{i}]"))
        except FhirError as error:
            issues += error.issues
    return entries, issues


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


# Messages ----------------------------------------------------------------------------------------

_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_HEADER = "Bundle.entry[0].resource"          # where a message's MessageHeader is


@dataclass
class Message:
    """A FHIR message (R4 messaging): its MessageHeader and the resources it carries."""
    bundle_id: str | None
    header: dict | None                      # None when entry 0 is not a MessageHeader
    entries: list[Entry]                     # the resources, stored as a transaction's are
    issues: list[Issue]                      # what is wrong with the message itself; prepare() adds these
    digest: str                              # of Bundle.id and the entries: a resend is the same message

    @property
    def header_id(self) -> str | None:
        """MessageHeader.id, by which a resend is recognised (None if missing or not a FHIR id)."""
        rid = (self.header or {}).get("id")
        return rid if isinstance(rid, str) and _FHIR_ID.fullmatch(rid) else None

    @property
    def event(self) -> str | None:
        """The event: eventUri, or eventCoding as system|code."""
        header = self.header or {}
        coding = header.get("eventCoding")
        if isinstance(coding, dict) and isinstance(coding.get("code"), str):
            return f"{coding.get('system') or ''}|{coding['code']}"
        uri = header.get("eventUri")
        return uri if isinstance(uri, str) else None


def message_of(bundle: object) -> Message:
    """A message Bundle read: a body that is not one is refused at once (400); every problem of
    its header and entries is collected in Message.issues, to be reported with those the
    validator finds in its resources (one refusal that lists them all)."""
    raw = _entries_of(bundle, "message")
    headers = frozenset(i for i, item in enumerate(raw) if _resource_type(item) == "MessageHeader")
    header = raw[0]["resource"] if 0 in headers else None
    issues = _header_place_issues(sorted(headers))
    if header is not None:
        issues += _header_issues(header)
    entries, problems = _parsed(raw, _message_entry, skip=headers)
    issues += problems
    if not entries and not problems:
        issues.append(Issue("error", "required", "The message carries no resources.", "Bundle.entry",
                            rule="sk-platform-message",
                            fix="Add the resources the event is about, one entry (with fullUrl) each, after the "
                                "MessageHeader."))
    if header is not None:
        issues += _focus_issues(header, [item for i, item in enumerate(raw) if i not in headers])
    bundle_id = bundle.get("id")
    if bundle_id is not None and not (isinstance(bundle_id, str) and _FHIR_ID.fullmatch(bundle_id)):
        issues.append(Issue("error", "value", f"Bundle.id {bundle_id!r} is not a FHIR id.", "Bundle.id",
                            rule="sk-platform-message", fix="Use a UUID (or leave Bundle.id out)."))
        bundle_id = None
    return Message(bundle_id, header, entries, issues, _digest(bundle))


def _resource_type(item: object) -> object:
    resource = item.get("resource") if isinstance(item, dict) else None
    return resource.get("resourceType") if isinstance(resource, dict) else None


def _header_place_issues(places: list[int]) -> list[Issue]:
    """A message starts with its one MessageHeader (R4 bdl-12)."""
    fix = "Put exactly one MessageHeader in the message, as its first entry (Bundle.entry[0])."
    if not places:
        return [Issue("error", "required", "The message has no MessageHeader.", _HEADER,
                      rule="sk-platform-message", fix=fix)]
    issues = []
    if places[0] != 0:
        issues.append(Issue("error", "structure", f"The MessageHeader is entry {places[0]}, not the first entry.",
                            _HEADER, rule="sk-platform-message", fix=fix))
    issues += [Issue("error", "structure", "A message has one MessageHeader; this is another.",
                     f"Bundle.entry[{i}].resource", rule="sk-platform-message", fix=fix) for i in places[1:]]
    return issues


def _header_issues(header: dict) -> list[Issue]:
    """The validator's errors in the MessageHeader (event[x], source.endpoint, ...) and what the
    intake needs of it: an id to recognise a resend by, and an event that names its code."""
    issues = _errors(Validator.default(), header, "MessageHeader", _HEADER)
    if header.get("id") is None:
        issues.append(Issue("error", "required", "The MessageHeader has no id.", f"{_HEADER}.id",
                            rule="sk-platform-message",
                            fix="Give each message a unique MessageHeader.id (a UUID), and keep it when you resend "
                                "the message: that is how the platform recognises a resend."))
    coding = header.get("eventCoding")
    if isinstance(coding, dict) and not isinstance(coding.get("code"), str):
        issues.append(Issue("error", "required", "MessageHeader.eventCoding has no code.",
                            f"{_HEADER}.eventCoding", rule="sk-platform-message",
                            fix="Name the event with eventCoding.system and .code (or with eventUri)."))
    return issues


def _message_entry(item: object, where: str) -> Entry:
    """A message's resource: stored by id as a PUT, or, without an id, as a POST with an id the
    platform assigns. Message entries have no request (R4 bdl-3) and need a fullUrl."""
    if not isinstance(item, dict):
        raise _invalid(where, "The entry is not a JSON object.", "Each entry needs fullUrl and resource.")
    if item.get("request") is not None:
        raise _invalid(f"{where}.request", "An entry of a message has no request.",
                       "Leave request out: a resource with an id is stored by that id, one without gets an id "
                       "from the platform. Send a transaction to [base] for other interactions.")
    if not (isinstance(item.get("fullUrl"), str) and item["fullUrl"]):
        raise _invalid(f"{where}.fullUrl", "The entry has no fullUrl.",
                       "Give every entry a fullUrl: urn:uuid:<uuid>, or the resource's [base]/Type/id.")
    resource = item.get("resource")
    if not isinstance(resource, dict):
        raise _invalid(f"{where}.resource", "The entry has no resource.",
                       "Every entry after the MessageHeader carries a resource to store.")
    rid = resource.get("id")
    if rid is not None and not (isinstance(rid, str) and rid):
        raise _invalid(f"{where}.resource.id", f"The resource id {rid!r} is not a FHIR id.",
                       "Give the resource a FHIR id, or leave id out to let the platform assign one.")
    return _entry(dict(item, request={"method": "PUT" if rid else "POST"}), where)


def _focus_issues(header: dict, items: list) -> list[Issue]:
    """Each MessageHeader.focus must be a resource of the message (by fullUrl, or Type/id)."""
    focus = header.get("focus")
    if not isinstance(focus, list):
        return []         # absent; another shape is the validator's to report
    known: set[str] = set()
    for item in items:
        if isinstance(item, dict):
            if isinstance(item.get("fullUrl"), str):
                known.add(item["fullUrl"])
            resource = item.get("resource")
            if isinstance(resource, dict) and isinstance(resource.get("id"), str):
                known.add(f"{resource.get('resourceType')}/{resource['id']}")
    fix = "Reference a resource of the message by its entry's fullUrl (or Type/id), or add the resource."
    issues = []
    for i, reference in enumerate(focus):
        target = reference.get("reference") if isinstance(reference, dict) else None
        if not isinstance(target, str) or target not in known:
            shown = repr(target) if isinstance(target, str) else "without a reference"
            issues.append(Issue("error", "not-found", f"MessageHeader.focus {shown} is not a resource of the message.",
                                f"{_HEADER}.focus[{i}]", rule="sk-platform-message", fix=fix))
    return issues


def _digest(bundle: dict) -> str:
    """What a resend must repeat: Bundle.id and the entries (not Bundle.timestamp or meta)."""
    text = json.dumps([bundle.get("id"), bundle.get("entry")], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# Resent messages ---------------------------------------------------------------------------------
#
# A message names itself in the event it becomes (storage.append's `message`: MessageHeader.id and
# the client that sent it, as the key), so the hendelseslager itself says whether a message was
# processed: in the same transaction as its data, so no crash can leave one without the other,
# and a tenant reset forgets both.

# How long a resend is recognised, as the CapabilityStatement states it (messaging.reliableCache):
# at least this; in fact for as long as the message's event is kept.
RESEND_WINDOW_MINUTES = 7 * 24 * 60


def message_mark(client: str, message: Message) -> dict | None:
    """What the event records of the message (None if it has no id to be recognised by: its
    issues refuse it)."""
    if message.header_id is None:
        return None
    # A FHIR id has no "@", so the key names one (id, client) pair whatever the client id holds.
    return {"key": f"{message.header_id}@{client}", "id": message.header_id, "bundle": message.bundle_id,
            "event": message.event, "digest": message.digest}


def processed_before(storage: SqlStorage, tenant: str, client: str, message: Message) -> dict | None:
    """The event this message became, if it was processed before (a resend); another message
    under the same id from the same client is refused."""
    mark = message_mark(client, message)
    event = storage.message_event(tenant, mark["key"]) if mark is not None else None
    if event is not None and event["message"]["digest"] != message.digest:
        raise FhirError(409, Issue(
            "error", "conflict", f"MessageHeader.id {message.header_id} was used before by another message of "
            f"this client (event {event['seq']}); a resend must repeat the message unchanged.",
            f"{_HEADER}.id", rule="sk-platform-message-resend",
            fix="Give every new message a new MessageHeader.id (a UUID); resend a message exactly as sent."))
    return event


def prepare(storage: SqlStorage, tenant: str, entries: list[Entry],
            found: Sequence[Issue] = ()) -> list[Write]:
    """Validate entries and apply the stateless platform rules; raise with every problem found,
    those already `found` in the request included."""
    issues: list[Issue] = list(found)
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
        issues += _errors(validator, resource, entry.rtype, entry.location)
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


def _errors(validator: Validator, resource: dict, rtype: str, location: str) -> list[Issue]:
    """The validator's errors in one resource of the request, located inside the request."""
    return [dataclasses.replace(issue, expression=_located(issue.expression, rtype, location))
            for issue in validator.validate(resource) if is_error(issue)]


def _located(expression: str | None, rtype: str, location: str) -> str:
    """The validator's expression (Type.path) placed inside the request (Bundle.entry[i].resource.path)."""
    if not expression:
        return location
    if expression.startswith(rtype):
        return location + expression[len(rtype):]
    return f"{location}.{expression}"


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
