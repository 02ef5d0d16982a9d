"""The FHIR R4 REST API of one tenant, `/<tenant>/fhir/...`: the information services.

Reads come from the projections of the event store; every write goes through the intake
(mock_platform.intake) and becomes one event. Every access is audited, sperring is honoured and
shared data is read-only for all but its source system.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request

from conformance.validator import Issue, Validator, operation_outcome
from mock_platform import audit, intake, rules, search, security, subscriptions
from mock_platform.capability import capability_statement
from mock_platform.errors import FhirError, fhir_response
from mock_platform.searchparams import PLATFORM_WRITTEN, reference_of, registry, values_at
from mock_platform.storage import Actor, AuditRow, MessageProcessed, Outcome, Query, Stored
from mock_platform.tenancy import caller, page_limit, storage, tenant_row

bp = Blueprint("fhir", __name__, url_prefix="/<tenant>/fhir")
# The Subscription dispatcher belongs to the FHIR API: set up when this blueprint is registered.
bp.record_once(lambda state: subscriptions.install(state.app))



def _base(tenant: str) -> str:
    # Straight from the WSGI environ: werkzeug's host_url (IRI decoding, trusted-host checks) costs
    # more than the whole database read of a read-by-id.
    environ = request.environ
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    return f"{environ['wsgi.url_scheme']}://{host}{environ.get('SCRIPT_NAME', '')}/{tenant}/fhir"


def _check_type(rtype: str, writing: bool = False) -> None:
    if rtype == subscriptions.TYPE:     # its supported interactions are routed before this check
        raise subscriptions.not_supported("history, vread or $validate")
    if rtype in PLATFORM_WRITTEN and not writing:
        return
    if rtype not in registry():
        if rtype in PLATFORM_WRITTEN:
            raise FhirError(405, Issue("error", "forbidden", f"{rtype} is written by the platform only.",
                                       expression=rtype, rule="sk-platform-audit",
                                       fix="Read the audit trail with GET [base]/AuditEvent?patient=Patient/<id>."))
        raise FhirError(404, Issue("error", "not-supported", f"Resource type '{rtype}' is not served here.",
                                   expression=rtype, rule="sk-platform-types",
                                   fix=f"Supported types: {', '.join(registry())}, AuditEvent (see /metadata)."))


def _headers(stored: Stored, tenant: str) -> dict[str, str]:
    updated = datetime.fromisoformat(stored.last_updated.replace("Z", "+00:00"))
    return {"ETag": f'W/"{stored.version}"', "Last-Modified": format_datetime(updated, usegmt=True),
            "Location": f"{_base(tenant)}/{stored.reference}/_history/{stored.version}"}


def _body() -> object:
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length and request.content_length > limit:
        raise FhirError(413, Issue("error", "too-costly", "The request body is too large.",
                                   fix=f"Send at most {limit // (1024 * 1024)} MB; split large loads into "
                                       "several transactions."))
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise FhirError(400, Issue("error", "structure", "The body is not valid JSON.", rule="sk-platform-intake",
                                   fix="Send FHIR JSON with Content-Type: application/fhir+json."))
    return body


# Capability and validation ---------------------------------------------------------------------

@bp.get("/metadata")
def metadata(tenant: str) -> Response:
    tenant_row(tenant)
    return fhir_response(capability_statement(_base(tenant)))


@bp.post("/$validate")
@bp.post("/<rtype>/$validate")
def validate(tenant: str, rtype: str | None = None) -> Response:
    caller(tenant, rtype, "read")
    body = _body()
    resource = body
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        resource = next((p.get("resource") for p in body.get("parameter") or []
                         if isinstance(p, dict) and p.get("name") == "resource"), None)
        if resource is None:
            raise FhirError(400, Issue("error", "required", "The Parameters have no 'resource' parameter.",
                                       "Parameters.parameter", fix='Add {"name": "resource", "resource": {...}}.'))
    issues = list(Validator.default().validate(resource))
    if isinstance(resource, dict):
        kind = resource.get("resourceType")
        if rtype is not None and kind != rtype:
            issues.append(Issue("error", "invalid", f"POSTed to {rtype}/$validate but the resource is {kind}.",
                                "resourceType", fix=f"Validate at [base]/{kind}/$validate or [base]/$validate."))
        issues += rules.real_data_issues(resource, str(kind))
    return fhir_response(operation_outcome(issues))


# Writes ---------------------------------------------------------------------------------------

@bp.post("")
@bp.post("/")
def transaction(tenant: str) -> Response:
    """The intake (meldingsmottak): a transaction Bundle is stored whole, as one event, or not at all."""
    actor, context = caller(tenant, "Bundle", "write")
    entries = intake.bundle_entries(_body())
    _check_scopes(context, entries)
    outcomes = _commit(tenant, actor, "transaction", entries)
    return fhir_response({
        "resourceType": "Bundle", "type": "transaction-response",
        "entry": [_response_entry(tenant, o) for o in outcomes],
    })


@bp.post("/$process-message")
def process_message(tenant: str) -> Response:
    """The intake of a FHIR message (R4 $process-message, synchronous): its resources take the
    transaction's path and become one event of kind message, and the answer is a response message.
    A resend (the same MessageHeader.id from the same client) is answered again, not stored twice."""
    actor, context = caller(tenant, "Bundle", "write")
    message = intake.message_of(_message_content())
    _check_scopes(context, message.entries)
    store = storage()
    event = intake.processed_before(store, tenant, actor.client_id, message)
    if event is None:
        try:
            _commit(tenant, actor, "message", message.entries, message.issues,
                    intake.message_mark(actor.client_id, message))
        except MessageProcessed:
            pass                                # a copy sent at the same time was stored first
        event = intake.processed_before(store, tenant, actor.client_id, message)
    return fhir_response(_response_message(tenant, message, event))


@bp.post("/<rtype>")
def create(tenant: str, rtype: str) -> Response:
    if rtype == subscriptions.TYPE:
        actor, context = caller(tenant, rtype, "write")
        return subscriptions.create(tenant, actor, context, _body(), _base(tenant))
    _check_type(rtype, writing=True)
    actor, _ = caller(tenant, rtype, "write")
    resource = _body()
    if not isinstance(resource, dict) or resource.get("resourceType") != rtype:
        raise FhirError(400, Issue("error", "invalid", f"POST {rtype} needs a {rtype} resource.", "resourceType",
                                   fix=f'Send a resource with "resourceType": "{rtype}".'))
    entry = intake.Entry(rtype, "POST", rtype, uuid.uuid4().hex, resource,
                         if_none_exist=request.headers.get("If-None-Exist"))
    return _write_one(tenant, actor, "create", entry)


@bp.put("/<rtype>/<rid>")
def update(tenant: str, rtype: str, rid: str) -> Response:
    if rtype == subscriptions.TYPE:
        actor, context = caller(tenant, rtype, "write")
        return subscriptions.update(tenant, actor, context, rid, _body(), _base(tenant))
    _check_type(rtype, writing=True)
    actor, _ = caller(tenant, rtype, "write")
    resource = _body()
    if not isinstance(resource, dict) or resource.get("resourceType") != rtype or resource.get("id") != rid:
        raise FhirError(400, Issue("error", "invalid", f"PUT {rtype}/{rid} needs a {rtype} with id {rid!r}.",
                                   f"{rtype}.id", rule="sk-platform-intake",
                                   fix="Send the resource with the same resourceType and id as in the URL."))
    entry = intake.Entry(rtype, "PUT", rtype, rid, resource, if_match=request.headers.get("If-Match"))
    return _write_one(tenant, actor, "update", entry)


@bp.delete("/<rtype>/<rid>")
def delete(tenant: str, rtype: str, rid: str) -> Response:
    if rtype == subscriptions.TYPE:
        return subscriptions.delete(tenant, caller(tenant, rtype, "write")[0], rid)
    _check_type(rtype, writing=True)
    actor, _ = caller(tenant, rtype, "write")
    entry = intake.Entry(rtype, "DELETE", rtype, rid, None, if_match=request.headers.get("If-Match"))
    (outcome,) = _commit(tenant, actor, "delete", [entry])
    headers = {"ETag": f'W/"{outcome.stored.version}"'} if outcome.stored.version else {}
    return Response(status=204, headers=headers)


def _write_one(tenant: str, actor: Actor, kind: str, entry: intake.Entry) -> Response:
    """Commit one create or update and answer with the stored resource as this caller may see it."""
    (outcome,) = _commit(tenant, actor, kind, [entry])
    status = 201 if outcome.status.startswith("201") else 200
    if entry.if_none_exist and status == 200:      # the match of a conditional create is a read of it
        _guard(tenant, actor, "read", outcome.stored)
    return fhir_response(rules.present(outcome.stored, actor), status, _headers(outcome.stored, tenant))


def _check_scopes(context: security.AccessContext, entries: list[intake.Entry]) -> None:
    """A Bundle's entries each need the write scope of their own information service."""
    check_scope = getattr(security, "check_scope", None)
    if check_scope is not None:
        for rtype in sorted({e.rtype for e in entries}):
            check_scope(context, rtype, "write")


def _commit(tenant: str, actor: Actor, kind: str, entries: list[intake.Entry],
            found: Sequence[Issue] = (), message: dict | None = None) -> list[Outcome]:
    """Check and store the entries as one event of this kind (refused with `found` problems too;
    `message`: what the event records of the FHIR message it stores); one outcome per entry."""
    store = storage()
    writes = intake.prepare(store, tenant, entries, found)
    try:
        seq, outcomes = store.append(tenant, kind, writes, actor, rules.ownership_check(actor), message=message)
    except rules.ReadOnlyRefusal as refusal:    # the attempt on another system's data is itself audited
        store.audit(tenant, actor, [refusal.audit])
        raise
    if seq is not None:
        subscriptions.wake()      # notify at once instead of at the dispatcher's next poll
    return outcomes


def _response_entry(tenant: str, outcome: Outcome) -> dict:
    stored = outcome.stored
    response = {"status": outcome.status, "location": f"{stored.reference}/_history/{stored.version}",
                "lastModified": stored.last_updated}
    if stored.version:
        response["etag"] = f'W/"{stored.version}"'
    return {"fullUrl": f"{_base(tenant)}/{stored.reference}", "response": response}


def _message_content() -> object:
    """The message of a $process-message request: the Bundle itself as the body (as R4 messaging
    sends it), or Parameters with `content`. Only synchronous messaging is offered: async=true and
    response-url are refused, since the response message is the answer to this request."""
    body = _body()
    options = {name: value for name, value in request.args.items() if name in ("async", "response-url")}
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        body, given = _message_parameters(body)
        options.update(given)
    flag = options.get("async", "false")
    if flag not in ("true", "false"):
        raise FhirError(400, Issue("error", "value", f"async is {flag!r}, not true or false.", "async",
                                   rule="sk-platform-message", fix="Leave async out, or send async=false."))
    if flag == "true" or "response-url" in options:
        raise FhirError(400, Issue("error", "not-supported", "Asynchronous messaging (async=true, response-url) "
                                   "is not supported.", "async" if flag == "true" else "response-url",
                                   rule="sk-platform-message",
                                   fix="Leave async and response-url out: the platform processes the message at once "
                                       "and answers this request with the response message."))
    return body


def _message_parameters(body: dict) -> tuple[object, dict[str, str]]:
    """$process-message's Parameters: the message (`content`) and the options as query text."""
    parameters = body.get("parameter")
    given = {p["name"]: p for p in parameters if isinstance(p, dict) and isinstance(p.get("name"), str)} \
        if isinstance(parameters, list) else {}
    if not isinstance(given.get("content", {}).get("resource"), dict):
        raise FhirError(400, Issue("error", "required", "The Parameters have no 'content' parameter with the message.",
                                   "Parameters.parameter", rule="sk-platform-message",
                                   fix='Add {"name": "content", "resource": <the message Bundle>}, or POST the '
                                       "message Bundle itself."))
    options = {}
    if "async" in given:
        options["async"] = str(given["async"].get("valueBoolean")).lower()    # True -> "true"
    if "response-url" in given:
        options["response-url"] = str(given["response-url"].get("valueUrl"))
    return given["content"]["resource"], options


def _response_message(tenant: str, message: intake.Message, event: dict) -> dict:
    """The R4 response message: a MessageHeader that answers the request's (response.identifier,
    code ok, the same event, source and destination swapped, focus on the stored versions) and an
    OperationOutcome (response.details) that says what became of each entry of the request.
    Built from the message's event alone (its ids too), so that a resend is answered as the first
    copy was."""
    header = message.header or {}
    sender = header["source"]
    addressed = next((d for d in header.get("destination") or [] if isinstance(d, dict)), {})
    response, details = (str(uuid.uuid5(uuid.NAMESPACE_URL, f"{_base(tenant)}/events/{event['seq']}#{part}"))
                         for part in ("response", "details"))
    # One change per entry, in the entries' order (a message's entries are all writes).
    stored = [(entry.location, f"{c['type']}/{c['id']}/_history/{c['version']}",
               "201 Created" if c["version"] == 1 else "200 OK")
              for entry, c in zip(message.entries, event["changes"])]
    reply = {
        "resourceType": "MessageHeader", "id": response,
        **{key: header[key] for key in ("eventCoding", "eventUri") if key in header},
        "destination": [{key: sender[key] for key in ("name", "endpoint") if key in sender}],
        "source": {"name": addressed.get("name") or "sandkasse mock platform", "software": "sandkasse mock platform",
                   "version": current_app.config["VERSION"],
                   "endpoint": addressed.get("endpoint") or f"{_base(tenant)}/$process-message"},
        "response": {"identifier": event["message"]["id"], "code": "ok",
                     "details": {"reference": f"urn:uuid:{details}"}},
        "focus": [{"reference": reference} for _, reference, _ in stored],
    }
    outcome = operation_outcome([Issue("information", "informational", f"Stored as {reference} ({status}).", where)
                                 for where, reference, status in stored])["issue"]
    return {"resourceType": "Bundle", "id": response, "type": "message", "timestamp": event["recorded"],
            "entry": [{"fullUrl": f"urn:uuid:{response}", "resource": reply},
                      {"fullUrl": f"urn:uuid:{details}",
                       "resource": {"resourceType": "OperationOutcome", "id": details, "issue": outcome}}]}


# Reads ----------------------------------------------------------------------------------------

@bp.get("/<rtype>/<rid>")
def read(tenant: str, rtype: str, rid: str) -> Response:
    if rtype == subscriptions.TYPE:
        return subscriptions.read(tenant, caller(tenant, rtype, "read")[0], rid)
    _check_type(rtype)
    actor, _ = caller(tenant, rtype, "read")
    if rtype == "AuditEvent":
        _, rows = storage().audit_trail(tenant, None, rid, None, 1, 0)
        if not rows:
            raise _not_found(tenant, rtype, rid)
        return fhir_response(audit.render(rows[0]))
    stored = storage().read(tenant, rtype, rid)
    if stored is None:
        raise _not_found(tenant, rtype, rid)
    if stored.deleted:
        raise FhirError(410, Issue("error", "deleted", f"{rtype}/{rid} was deleted (version {stored.version}).",
                                   rule="sk-platform-history",
                                   fix=f"Earlier versions remain readable at {rtype}/{rid}/_history."))
    _guard(tenant, actor, "read", stored)
    storage().audit(tenant, actor, [AuditRow("read", rtype, rid, stored.patient)], batched=True)
    return fhir_response(rules.present(stored, actor), headers=_headers(stored, tenant))


@bp.get("/<rtype>/<rid>/_history/<vid>")
def vread(tenant: str, rtype: str, rid: str, vid: str) -> Response:
    _check_type(rtype)
    actor, _ = caller(tenant, rtype, "read")
    version = search.non_negative_int(vid)
    stored = storage().vread(tenant, rtype, rid, version) if version is not None else None
    if stored is None:
        raise FhirError(404, Issue("error", "not-found", f"{rtype}/{rid} has no version {vid!r}.",
                                   rule="sk-platform-history", fix=f"List the versions with {rtype}/{rid}/_history."))
    if stored.deleted:
        raise FhirError(410, Issue("error", "deleted", f"Version {vid} of {rtype}/{rid} is its deletion.",
                                   rule="sk-platform-history", fix="Read an earlier version."))
    _guard(tenant, actor, "vread", stored)
    storage().audit(tenant, actor, [AuditRow("vread", rtype, rid, stored.patient)], batched=True)
    return fhir_response(rules.present(stored, actor), headers=_headers(stored, tenant))


@bp.get("/<rtype>/<rid>/_history")
def instance_history(tenant: str, rtype: str, rid: str) -> Response:
    return _history(tenant, rtype, rid)


@bp.get("/<rtype>/_history")
def type_history(tenant: str, rtype: str) -> Response:
    return _history(tenant, rtype, None)


def _history(tenant: str, rtype: str, rid: str | None) -> Response:
    _check_type(rtype)
    if rtype in PLATFORM_WRITTEN:
        raise FhirError(404, Issue("error", "not-supported", "AuditEvents have no history (they never change).",
                                   rule="sk-platform-audit", fix="Search them: AuditEvent?patient=Patient/<id>."))
    actor, _ = caller(tenant, rtype, "read")
    count, offset = _paging(tenant)
    total, versions = storage().history(tenant, rtype, rid, count, offset)
    if rid is not None and total == 0:
        raise _not_found(tenant, rtype, rid)
    visibility = rules.Visibility(storage(), tenant, actor)
    withheld: dict[str, int] = {}
    visible = []
    for stored in versions:
        reason = visibility.withheld(stored)
        if reason is None:
            visible.append(stored)
        else:
            withheld[reason] = withheld.get(reason, 0) + 1
    if rid is not None and versions and not visible:
        _guard(tenant, actor, "history", versions[0])
    entries = []
    for stored in visible:
        method = "DELETE" if stored.deleted else "POST" if stored.version == 1 else "PUT"
        entry = {"fullUrl": f"{_base(tenant)}/{stored.reference}",
                 "request": {"method": method, "url": stored.reference if method != "POST" else rtype},
                 "response": {"status": "204" if stored.deleted else "201" if stored.version == 1 else "200",
                              "etag": f'W/"{stored.version}"', "lastModified": stored.last_updated}}
        if not stored.deleted:
            entry["resource"] = rules.present(stored, actor)
        entries.append(entry)
    entries += [_outcome_entry(issue) for issue in rules.withheld_issues(withheld, "versions")]
    _audit_results(tenant, actor, "history", rtype, visible, rid)
    return fhir_response({"resourceType": "Bundle", "type": "history", "total": total,
                          "link": _links(total, count, offset), "entry": entries})


@bp.get("/<rtype>")
@bp.post("/<rtype>/_search")
def search_type(tenant: str, rtype: str) -> Response:
    if rtype != subscriptions.TYPE:
        _check_type(rtype)
    actor, _ = caller(tenant, rtype, "read")
    args = request.args.copy()
    if request.method == "POST":
        args.update(request.form)
    if rtype == "AuditEvent":
        return _audit_search(tenant, actor, args)
    if rtype == subscriptions.TYPE:
        return subscriptions.search_owned(tenant, actor, args, _base(tenant))
    parsed = search.parse(tenant, rtype, args, page_limit(tenant))
    store = storage()
    visibility = rules.Visibility(store, tenant, actor)
    query = parsed.query
    # Each rule that hides data (sperring, restricted notes) is one more SQL condition; the counts
    # before and after each say how much it withheld, so the caller is told (never a silent gap).
    counts: list[tuple[str, int]] = []
    for reason, fragment in visibility.filters(rtype):
        counts.append((reason, store.count(query)))
        query.where.append(fragment)
    if parsed.summary_count:
        total = store.count(query)
        matches: list[Stored] = []
    else:
        total, matches = store.search(query)
    entries = [{"fullUrl": f"{_base(tenant)}/{s.reference}", "resource": rules.present(s, actor),
                "search": {"mode": "match"}} for s in matches]
    included = _includes(tenant, parsed, matches, visibility)
    entries += [{"fullUrl": f"{_base(tenant)}/{s.reference}", "resource": rules.present(s, actor),
                 "search": {"mode": "include"}} for s in included]
    after = [n for _, n in counts[1:]] + [total]
    withheld = {reason: before - later for (reason, before), later in zip(counts, after)}
    entries += [_outcome_entry(issue) for issue in rules.withheld_issues(withheld, "matching resources")]
    _audit_results(tenant, actor, "search", rtype, matches + included, None)
    return fhir_response({"resourceType": "Bundle", "type": "searchset", "total": total,
                          "link": _links(total, query.count, query.offset), "entry": entries})


def _includes(tenant: str, parsed: search.Search, matches: list[Stored], visibility: rules.Visibility) -> list[Stored]:
    store = storage()
    found: dict[str, Stored] = {}
    seen = {s.reference for s in matches}
    for rtype, param in parsed.includes:
        refs = [ref for s in matches for path in registry()[rtype].params[param].paths
                for ref in map(reference_of, values_at(s.resource, path)) if ref]
        for stored in store.read_many(tenant, [r for r in refs if r not in seen]):
            found.setdefault(stored.reference, stored)
    if parsed.revincludes and matches:
        targets = sorted(seen)
        for other, param in parsed.revincludes:
            query = Query(tenant, other, count=search.MAX_COUNT)
            query.where.append((
                "r.id IN (SELECT t.id FROM tokens t WHERE t.tenant=? AND t.type=? AND t.param=? AND t.value IN "
                f"({','.join('?' * len(targets))}))", [tenant, other, param, *targets]))
            for stored in store.search(query)[1]:
                found.setdefault(stored.reference, stored)
    return [s for ref, s in found.items() if ref not in seen and visibility.withheld(s) is None]


def _audit_search(tenant: str, actor: Actor, args) -> Response:
    unknown = sorted(set(args) - {"patient", "_count", "_offset", "_id"})
    if unknown:
        raise FhirError(400, Issue("error", "not-supported", f"Unknown search parameter '{unknown[0]}' for AuditEvent.",
                                   unknown[0], rule="sk-platform-search",
                                   fix="Search the audit trail with patient=Patient/<id> (and _count)."))
    patient = args.get("patient")
    if patient is not None:
        patient = patient if "/" in patient else f"Patient/{patient}"
    count, offset = _paging(tenant)
    total, rows = storage().audit_trail(tenant, patient, args.get("_id"), None, count, offset)
    entries = [{"fullUrl": f"{_base(tenant)}/AuditEvent/{r['id']}", "resource": audit.render(r),
                "search": {"mode": "match"}} for r in rows]
    storage().audit(tenant, actor, [AuditRow("search", "AuditEvent", None, patient, detail="audit trail")])
    return fhir_response({"resourceType": "Bundle", "type": "searchset", "total": total,
                          "link": _links(total, count, offset), "entry": entries})


# Helpers --------------------------------------------------------------------------------------

def _guard(tenant: str, actor: Actor, action: str, stored: Stored) -> None:
    """403 (suppressed) for data withheld from this caller: the patient's sperring, or another
    system's internal-only note. Audited as a refused access."""
    visibility = rules.Visibility(storage(), tenant, actor)
    reason = visibility.withheld(stored)
    if reason is None:
        return
    rtype = stored.resource["resourceType"]
    if reason == "sperring":
        block = rules.blocking(visibility.blocks, rtype, stored.resource["id"], stored.patient)
        message = (f"{stored.reference} is withheld: {stored.patient} has a block (sperring, {block.consent}) "
                   f"against you ({block.actor_kind} {block.actor_value}).")
        rule, fix = "sk-platform-sperring", ("Tell the user that information is withheld by the patient's sperring; "
                                             "access needs the patient's consent or an emergency basis.")
    else:
        message = (f"{stored.reference} is withheld: it is an internal-only note (meta.security "
                   f"{rules.RESTRICTED}) of source system '{stored.source}', for its own organisation.")
        rule, fix = "sk-platform-restricted", rules.RESTRICTED_FIX
    storage().audit(tenant, actor, [AuditRow(action, rtype, stored.resource["id"], stored.patient, "4", message)])
    raise FhirError(403, Issue("error", "suppressed", message, rule=rule, fix=fix))


def _audit_results(tenant: str, actor: Actor, action: str, rtype: str, results: list[Stored], rid: str | None) -> None:
    patients = sorted({s.patient for s in results if s.patient})
    rows = [AuditRow(action, rtype, rid, p, detail=request.query_string.decode()[:500] or None) for p in patients]
    storage().audit(tenant, actor, rows or [AuditRow(action, rtype, rid, None,
                                                     detail=request.query_string.decode()[:500] or None)],
                    batched=True)


def _paging(tenant: str) -> tuple[int, int]:
    """_count and _offset of a history or audit query; _count at most the tenant's page limit."""
    count = search.non_negative_int(request.args.get("_count", str(search.DEFAULT_COUNT)))
    offset = search.non_negative_int(request.args.get("_offset", "0"))
    if count is None or offset is None:
        raise FhirError(400, Issue("error", "invalid", "_count and _offset must be non-negative integers below 2^63.",
                                   "_count" if count is None else "_offset", rule="sk-platform-search",
                                   fix="Use e.g. _count=50, and follow the Bundle's next link for later pages."))
    return min(count, page_limit(tenant)), offset


def _links(total: int, count: int, offset: int) -> list[dict]:
    """Paging links with the request's parameters and the page size actually used (which the
    tenant's page limit may have made smaller than the _count asked for)."""
    def url(at: int) -> str:
        args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("_offset", "_count")]
        if request.method == "POST":
            args += [(k, v) for k, v in request.form.items(multi=True) if k not in ("_offset", "_count")]
        args.append(("_count", str(count)))
        return f"{request.base_url.removesuffix('/_search')}?{urlencode(args + [('_offset', str(at))])}"
    links = [{"relation": "self", "url": url(offset)}, {"relation": "first", "url": url(0)}]
    if count and offset > 0:
        links.append({"relation": "previous", "url": url(max(offset - count, 0))})
    if count and offset + count < total:
        links.append({"relation": "next", "url": url(offset + count)})
        links.append({"relation": "last", "url": url(((total - 1) // count) * count)})
    return links


def _outcome_entry(issue: Issue) -> dict:
    return {"resource": operation_outcome([issue]), "search": {"mode": "outcome"}}


def _not_found(tenant: str, rtype: str, rid: str) -> FhirError:
    return FhirError(404, Issue("error", "not-found", f"{rtype}/{rid} does not exist in tenant {tenant}.",
                                rule="sk-platform-read", fix="Search by identifier to find the resource id."))
