"""FHIR R4 Subscription (channel rest-hook) on the hendelseslager.

A consumer creates a Subscription on its tenant's FHIR API; a dispatcher thread in each platform
process then finds the subscriptions with events to deliver and hands each to a delivery worker
(a few threads; one subscription has at most one), which walks the tenant's events in order and,
for each event whose changed resources match the criteria, POSTs a notification to the endpoint:
a slow endpoint delays only its own subscription. Matching is the platform's own search
(`search.parse` of the criteria, restricted to the event's changed ids; for a deleted resource,
run over a copy of its version before the deletion), and the platform rules apply as to any read
by the subscription's owner (the client that created it): sperring, restricted notes, source-only
data, tenant isolation, audit.

State lives in the storage's key-value API, so several platform processes share it:
  RECORDS  "<tenant>/<id>" -> the Subscription as created, its owner and the base URL it was made on
  STATES   "<tenant>/<id>" -> status, error, the delivery cursor (last event seq handled), counters
  LEASES   "<tenant>/<id>" -> held by the one process delivering it now (kv_add_if_absent), so two
           processes never send the same notification; a crashed holder's lease expires and
           another process resumes from the cursor (at least once).

Notifications (docs/platform.md, "Subscriptions"): with an empty channel.payload a POST with no
body (R4 ping); with application/fhir+json a `history` Bundle in the shape of the R4 Subscriptions
Backport: a Parameters entry (subscription, status, type, events-since-subscription-start,
notification-event) plus the hendelseslager sequence, then the matching resources (a deleted one
as a DELETE entry without resource).
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
import weakref
from dataclasses import asdict, dataclass, fields
from urllib.parse import parse_qsl, urlsplit

import httpx
from flask import Flask, Response, current_app
from werkzeug.datastructures import MultiDict

from conformance.validator import Issue
from mock_platform import rules, search, searchparams, security
from mock_platform.errors import FhirError, fhir_response
from mock_platform.searchparams import date_range, registry
from mock_platform.storage import Actor, AuditRow, SqliteStorage, SqlStorage, Stored, Write
from mock_platform.storage.base import now

TYPE = "Subscription"
RECORDS = "platform.subscriptions"
STATES = "platform.subscription-state"
LEASES = "platform.subscription-lease"
RULE = "sk-platform-subscription"
PAYLOAD = "application/fhir+json"
_FORBIDDEN_HEADERS = {"host", "content-length", "content-type", "transfer-encoding", "connection"}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """Documented limits (docs/platform.md); tests shorten the delays with
    PlatformConfig(extra={"SUBSCRIPTION_LIMITS": {...}})."""
    max_per_client: int = 20              # subscriptions per client and tenant
    max_resource_chars: int = 16_384      # the Subscription as JSON
    max_endpoint_chars: int = 2048
    max_headers: int = 10
    max_header_chars: int = 1024
    timeout_seconds: float = 5.0          # per delivery (connect + answer)
    max_attempts: int = 5                 # failed deliveries in a row before status error
    retry_seconds: float = 1.0            # back-off: retry_seconds * 2**(failures-1) ...
    max_retry_seconds: float = 60.0       # ... at most this
    lease_seconds: float = 60.0           # a process's claim on one subscription
    round_seconds: float = 20.0           # a holder delivers at most this long, then lets go
    poll_seconds: float = 0.2             # how often the dispatcher looks for new events
    batch: int = 20                       # events read per query
    workers: int = 4                      # delivery threads per process, each on one subscription at a time


# -- the FHIR interactions (called by fhir_api's routes) ------------------------------------------

def create(tenant: str, actor: Actor, context: security.AccessContext, body: object, base: str) -> Response:
    store = _store()
    resource, criteria_type = _checked(body, None)
    security.check_scope(context, criteria_type, "read")       # the criteria reads that service's data
    owned = [r for r in store.kv_list(RECORDS).values()
             if r["tenant"] == tenant and r["owner"]["client_id"] == actor.client_id]
    limits = dispatcher().limits
    if len(owned) >= limits.max_per_client:
        raise FhirError(422, Issue("error", "too-costly", f"You have {len(owned)} subscriptions in this tenant; "
                                   f"at most {limits.max_per_client} are allowed.", "Subscription", rule=RULE,
                                   fix="Delete subscriptions you no longer use, or widen one criteria "
                                       "(a comma is OR) instead of one subscription per value."))
    sid = uuid.uuid4().hex
    key = f"{tenant}/{sid}"
    recorded = now()[0]
    # The cursor starts at the tenant's current head: a subscription notifies of what happens after it.
    store.kv_put(STATES, key, {"status": "requested", "error": None, "seq": store.last_seq(tenant), "count": 0,
                               "failures": 0, "retry_at": 0.0})
    record = {"tenant": tenant, "id": sid, "owner": asdict(actor), "base": base, "version": 1, "updated": recorded,
              "resource": dict(resource, id=sid)}
    store.kv_put(RECORDS, key, record)
    store.audit(tenant, actor, [AuditRow("create", TYPE, sid, None, detail=resource["criteria"][:500])])
    dispatcher().ensure_running(force=True)
    return fhir_response(_render(record, store.kv_get(STATES, key)), 201,
                         {"Location": f"{base}/{TYPE}/{sid}", "ETag": 'W/"1"'})


def read(tenant: str, actor: Actor, sid: str) -> Response:
    record, state = _owned(tenant, actor, sid)
    _store().audit(tenant, actor, [AuditRow("read", TYPE, sid, None)], batched=True)
    return fhir_response(_render(record, state), headers={"ETag": f'W/"{record["version"]}"'})


def update(tenant: str, actor: Actor, context: security.AccessContext, sid: str, body: object, base: str) -> Response:
    """PUT by the owner: new criteria or channel, or status requested to start again after an
    error (a new handshake; the cursor is kept), or status off to pause."""
    store = _store()
    record, state = _owned(tenant, actor, sid)
    resource, criteria_type = _checked(body, sid)
    security.check_scope(context, criteria_type, "read")
    key = f"{tenant}/{sid}"
    wanted = resource["status"]
    state = dict(state, status="off" if wanted == "off" else "requested", error=None, failures=0, retry_at=0.0)
    store.kv_put(STATES, key, state)
    record = dict(record, resource=dict(resource, id=sid), base=base, version=record["version"] + 1,
                  updated=now()[0])
    store.kv_put(RECORDS, key, record)
    store.audit(tenant, actor, [AuditRow("update", TYPE, sid, None, detail=resource["criteria"][:500])])
    dispatcher().ensure_running(force=True)
    return fhir_response(_render(record, state), headers={"ETag": f'W/"{record["version"]}"'})


def delete(tenant: str, actor: Actor, sid: str) -> Response:
    store = _store()
    _owned(tenant, actor, sid)
    store.kv_delete(RECORDS, f"{tenant}/{sid}")
    store.kv_delete(STATES, f"{tenant}/{sid}")
    store.audit(tenant, actor, [AuditRow("delete", TYPE, sid, None)])
    return Response(status=204)


def search_owned(tenant: str, actor: Actor, args: MultiDict, base: str) -> Response:
    """GET Subscription?status=&_id=: the caller's own subscriptions in this tenant."""
    unknown = sorted(set(args) - {"status", "_id", "_count"})
    if unknown:
        raise FhirError(400, Issue("error", "not-supported", f"Unknown search parameter '{unknown[0]}' for "
                                   "Subscription.", unknown[0], rule="sk-platform-search",
                                   fix="Search your subscriptions with status and _id."))
    store = _store()
    states = store.kv_list(STATES)
    found = []
    for key, record in sorted(store.kv_list(RECORDS).items(), key=lambda kv: kv[1]["updated"]):
        if record["tenant"] != tenant or record["owner"]["client_id"] != actor.client_id:
            continue
        rendered = _render(record, states.get(key) or {})
        if "status" in args and rendered["status"] not in args["status"].split(","):
            continue
        if "_id" in args and record["id"] not in args["_id"].split(","):
            continue
        found.append(rendered)
    store.audit(tenant, actor, [AuditRow("search", TYPE, None, None, detail="own subscriptions")], batched=True)
    return fhir_response({"resourceType": "Bundle", "type": "searchset", "total": len(found),
                          "link": [{"relation": "self", "url": f"{base}/{TYPE}"}],
                          "entry": [{"fullUrl": f"{base}/{TYPE}/{r['id']}", "resource": r,
                                     "search": {"mode": "match"}} for r in found]})


def forget_tenant(store: SqlStorage, tenant: str) -> int:
    """Delete a tenant's subscriptions (for a tenant reset); returns how many there were."""
    keys = [key for key, record in store.kv_list(RECORDS).items() if record["tenant"] == tenant]
    for key in keys:
        store.kv_delete(RECORDS, key)
        store.kv_delete(STATES, key)
    return len(keys)


def _owned(tenant: str, actor: Actor, sid: str) -> tuple[dict, dict]:
    """The record and state of the caller's own subscription; 404 for anyone else's (a subscription
    says what a system watches, so others must not even learn that it exists)."""
    key = f"{tenant}/{sid}"
    record = _store().kv_get(RECORDS, key)
    if record is None or record["owner"]["client_id"] != actor.client_id:
        raise FhirError(404, Issue("error", "not-found", f"{TYPE}/{sid} does not exist in tenant {tenant}.",
                                   rule="sk-platform-read",
                                   fix="Search your own subscriptions with GET [base]/Subscription."))
    return record, _store().kv_get(STATES, key) or {}


def _render(record: dict, state: dict) -> dict:
    resource = dict(record["resource"], id=record["id"], status=state.get("status", "requested"),
                    meta={"versionId": str(record["version"]), "lastUpdated": record["updated"]})
    resource.pop("error", None)
    if state.get("error"):
        resource["error"] = state["error"]
    return resource


# -- checking a Subscription ------------------------------------------------------------------------

def parse_criteria(criteria: str, tenant: str = "") -> tuple[str, search.Search]:
    """'Observation?patient=Patient/x&code=...' -> (type, the platform's own search of it)."""
    rtype, _, query = criteria.partition("?")
    if rtype not in registry():
        raise FhirError(422, _issue(f"The criteria's type {rtype!r} is not served here.", "Subscription.criteria",
                                    f"Write <Type>?<search>, with a type of the CapabilityStatement: "
                                    f"{', '.join(registry())}."))
    args = MultiDict(parse_qsl(query, keep_blank_values=True))
    result_params = sorted(k for k in args if k.partition(":")[0] in search.RESULT_PARAMS)
    if result_params:
        raise FhirError(422, _issue(f"The criteria uses the result parameter {result_params[0]}; criteria "
                                    "select resources, they do not shape a result.", "Subscription.criteria",
                                    "Leave out _count, _sort, _include, _revinclude and _summary."))
    try:
        return rtype, search.parse(tenant, rtype, args)
    except FhirError as error:                       # the same message a search would get, located here
        raise FhirError(422, [Issue(i.severity, i.code, f"In the criteria: {i.message}", "Subscription.criteria",
                                    rule=RULE, fix=i.fix) for i in error.issues]) from None


def _checked(body: object, sid: str | None) -> tuple[dict, str]:
    """The Subscription as stored (status requested/off, no server fields), and the criteria's type.
    Every problem is reported at once."""
    if not isinstance(body, dict) or body.get("resourceType") != TYPE:
        raise FhirError(400, _issue("The body is not a Subscription.", "resourceType",
                                    'Send {"resourceType": "Subscription", "status": "requested", "reason": ..., '
                                    '"criteria": "Observation?patient=Patient/<id>", "channel": {"type": '
                                    '"rest-hook", "endpoint": "https://...", "payload": "application/fhir+json"}}.'))
    if sid is not None and body.get("id") != sid:
        raise FhirError(400, _issue(f"PUT Subscription/{sid} needs a Subscription with id {sid!r}.",
                                    "Subscription.id", "Send the resource with the id of the URL."))
    issues: list[Issue] = []
    limits = dispatcher().limits
    if len(json.dumps(body, ensure_ascii=False)) > limits.max_resource_chars:
        raise FhirError(422, Issue("error", "too-costly", f"The Subscription is larger than "
                                   f"{limits.max_resource_chars} characters.", TYPE, rule=RULE,
                                   fix="Send only the elements a Subscription needs: status, reason, criteria, "
                                       "channel, end."))
    if body.get("status", "requested") not in ("requested", "active", "off"):
        issues.append(_issue(f"status {body.get('status')!r} cannot be set by a client.", "Subscription.status",
                             "Send status requested (the platform sets active or error); off pauses it."))
    if not isinstance(body.get("reason"), str) or not body["reason"].strip():
        issues.append(_issue("reason is required (1..1 in R4).", "Subscription.reason",
                             'Say why you subscribe, e.g. "reason": "Nye NEWS2-målinger for pasienten".'))
    if body.get("end") is not None and (not isinstance(body["end"], str) or date_range(body["end"]) is None):
        issues.append(_issue("end is not a FHIR instant.", "Subscription.end", "Use e.g. 2026-12-31T23:59:59Z."))
    criteria_type = ""
    criteria = body.get("criteria")
    if not isinstance(criteria, str) or "?" not in criteria and criteria not in registry():
        issues.append(_issue("criteria is required: a search string <Type>?<parameters>.", "Subscription.criteria",
                             "E.g. Observation?patient=Patient/<id>&code=http://loinc.org|8867-4."))
    else:
        try:
            criteria_type = parse_criteria(criteria)[0]
        except FhirError as error:
            issues += error.issues
    issues += _channel_issues(body.get("channel"), limits)
    if issues:
        raise FhirError(422, issues)
    clean = {k: v for k, v in body.items() if k not in ("id", "meta", "error", "text")}
    clean["status"] = "off" if body.get("status") == "off" else "requested"
    return clean, criteria_type


def _channel_issues(channel: object, limits: Limits) -> list[Issue]:
    if not isinstance(channel, dict):
        return [_issue("channel is required.", "Subscription.channel",
                       'Send "channel": {"type": "rest-hook", "endpoint": "https://..."}.')]
    issues = []
    if channel.get("type") != "rest-hook":
        issues.append(_issue(f"channel.type {channel.get('type')!r} is not supported; only rest-hook is.",
                             "Subscription.channel.type", 'Use "type": "rest-hook" with an HTTP endpoint.'))
    endpoint = channel.get("endpoint")
    parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname \
            or len(endpoint) > limits.max_endpoint_chars or any(c in endpoint for c in "\r\n "):
        issues.append(_issue("channel.endpoint must be an absolute http or https URL "
                             f"(at most {limits.max_endpoint_chars} characters).", "Subscription.channel.endpoint",
                             "Give the URL your system receives notifications on, e.g. https://epj.example/fhir-hook."))
    if channel.get("payload") not in (None, "", PAYLOAD):
        issues.append(_issue(f"channel.payload {channel.get('payload')!r} is not supported.",
                             "Subscription.channel.payload",
                             f"Leave it out for a ping without body, or use {PAYLOAD} for the resources."))
    headers = channel.get("header") or []
    if not isinstance(headers, list) or len(headers) > limits.max_headers:
        issues.append(_issue(f"channel.header is a list of at most {limits.max_headers} strings.",
                             "Subscription.channel.header", 'E.g. ["Authorization: Bearer <your token>"].'))
        return issues
    for index, header in enumerate(headers):
        name, colon, _ = header.partition(":") if isinstance(header, str) else ("", "", "")
        if not colon or not name.strip() or any(c in header for c in "\r\n") or len(header) > limits.max_header_chars \
                or not all(c.isalnum() or c in "-_" for c in name.strip()) or name.strip().lower() in _FORBIDDEN_HEADERS:
            issues.append(_issue(f"channel.header[{index}] is not a header line the platform may send.",
                                 f"Subscription.channel.header[{index}]",
                                 f"Write 'Name: value' on one line (at most {limits.max_header_chars} characters; "
                                 f"not {', '.join(sorted(_FORBIDDEN_HEADERS))})."))
    return issues


def _issue(message: str, where: str, fix: str) -> Issue:
    return Issue("error", "invalid", message, where, rule=RULE, fix=fix)


# -- the dispatcher -----------------------------------------------------------------------------------

def install(app: Flask) -> None:
    """One dispatcher per app (and per process after a fork). It runs while subscriptions exist;
    each request checks, at most every few seconds, that it is running in this process."""
    limits = Limits(**{f.name: v for f in fields(Limits)
                       if (v := app.config.get("SUBSCRIPTION_LIMITS", {}).get(f.name)) is not None})
    app.extensions["sandkasse.subscriptions"] = Dispatcher(app.extensions["sandkasse.storage"], limits)
    app.before_request(lambda: app.extensions["sandkasse.subscriptions"].ensure_running())


def dispatcher() -> "Dispatcher":
    return current_app.extensions["sandkasse.subscriptions"]


def wake() -> None:
    """A write in this process: deliver now rather than at the next poll (other processes' writes
    are seen within poll_seconds)."""
    dispatcher().wake()


def _store() -> SqlStorage:
    return current_app.extensions["sandkasse.storage"]


class Dispatcher:
    """One thread per process finds the subscriptions with work to do and hands each to a
    delivery worker (a thread of its own, at most `limits.workers` at once), so that a slow or
    failing endpoint holds up only its own subscription. A subscription has at most one worker:
    in this process by `_busy`, across processes by its lease."""

    CHECK_SECONDS = 5.0        # how often a request makes sure the thread runs in this process
    IDLE_EXIT_SECONDS = 5.0    # with no subscriptions for this long the thread ends

    def __init__(self, store: SqlStorage, limits: Limits) -> None:
        self.store, self.limits = store, limits
        self._thread: tuple[int, threading.Thread] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._checked = float("-inf")
        self._http: tuple[int, httpx.Client] | None = None
        self._stopped = False
        self._last_error = ""
        self._busy: tuple[int, set[str]] = (os.getpid(), set())   # keys a worker of this process delivers
        self._busy_lock = threading.Lock()
        self._turns: dict[str, float] = {}    # key -> when it last got a worker (the longest waiting goes first)

    def ensure_running(self, force: bool = False) -> None:
        """Started lazily and per process (a thread does not survive a fork), like the audit flusher."""
        moment = time.monotonic()
        if not force and moment - self._checked < self.CHECK_SECONDS:
            return
        self._checked = moment
        if self._stopped or not force and not self._running() and not self._any():
            return
        with self._lock:
            if force:
                self._wake.set()
            if self._running():
                return
            # The thread holds the dispatcher weakly: when the app goes away, the thread ends.
            thread = threading.Thread(target=_run, args=(weakref.ref(self),), name="sandkasse-subscriptions",
                                      daemon=True)
            self._thread = (os.getpid(), thread)
            thread.start()

    def wake(self) -> None:
        if self._thread is not None:
            self._wake.set()

    def stop(self) -> None:
        """End the thread (tests; an app being shut down)."""
        self._stopped = True
        self._wake.set()

    def _running(self) -> bool:
        return self._thread is not None and self._thread[0] == os.getpid() and self._thread[1].is_alive()

    def _any(self) -> bool:
        """Whether any subscription exists (checked on a request, so a failure must not fail it)."""
        try:
            return bool(self.store.kv_list(RECORDS))
        except Exception:  # noqa: BLE001 - the next check tries again
            return False

    def _idle_exit(self) -> bool:
        with self._lock:
            if self._wake.is_set():
                return False
            self._thread = None
            return True

    # One round: every subscription with work to do, and no worker yet, gets a worker for one
    # lease-protected delivery run; a worker that finishes wakes the next round.
    def run_once(self) -> bool:
        records = self.store.kv_list(RECORDS)
        if not records:
            return False
        self._turns = {key: turn for key, turn in self._turns.items() if key in records}
        for key in sorted(self._due(records), key=lambda k: self._turns.get(k, 0.0)):
            if not self._hand_out(key):
                break                                # every worker is busy
        return True

    def _due(self, records: dict[str, dict]) -> list[str]:
        """The subscriptions with something to send: a handshake, or events after their cursor."""
        states = self.store.kv_list(STATES)
        heads: dict[str, int] = {}
        due = []
        for key, record in records.items():
            state = states.get(key)
            if state is None or state["status"] in ("error", "off") or state["retry_at"] > time.time():
                continue
            tenant = record["tenant"]
            if tenant not in heads:
                heads[tenant] = self.store.last_seq(tenant)
            if state["status"] == "active" and state["seq"] == heads[tenant]:
                continue
            due.append(key)
        return due

    def _hand_out(self, key: str) -> bool:
        """Start a worker on `key` unless one has it already; False if all workers are busy."""
        with self._busy_lock:
            busy = self._busy_here()
            if key in busy:
                return True
            if len(busy) >= self.limits.workers:
                return False
            busy.add(key)
        self._turns[key] = time.monotonic()
        threading.Thread(target=self._work, args=(key,), name="sandkasse-subscription-delivery", daemon=True).start()
        return True

    def _work(self, key: str) -> None:
        """A delivery worker: one run of one subscription; then the key is free for the next round."""
        delivered = False
        try:
            delivered = not self._stopped and self.service(key)
        except Exception as error:  # noqa: BLE001 - as in _run: the cursor is saved, a later round retries
            self._warn(error)
        finally:
            self._done(key, delivered)

    def _busy_here(self) -> set[str]:
        """This process's busy keys (a worker thread does not survive a fork); under _busy_lock."""
        if self._busy[0] != os.getpid():
            self._busy = (os.getpid(), set())
        return self._busy[1]

    def _done(self, key: str, delivered: bool) -> None:
        with self._busy_lock:
            self._busy_here().discard(key)
        # After a run, events may have come meanwhile, or another subscription waits for a worker:
        # the next round now. After a refused lease or an error, the next poll (no busy loop).
        if delivered:
            self._wake.set()

    def service(self, key: str) -> bool:
        """One delivery run of one subscription under its lease; False if another process has it."""
        if not self.store.kv_add_if_absent(LEASES, key, self.limits.lease_seconds):
            return False
        try:
            self._deliver(key, time.monotonic())
        finally:
            self.store.kv_delete(LEASES, key)
        return True

    def _warn(self, error: Exception) -> None:
        if str(error) != self._last_error:           # once per distinct error, not five times a second
            log.warning("subscription dispatch failed: %s", error)
            self._last_error = str(error)

    def _deliver(self, key: str, started: float) -> None:
        record, state = self.store.kv_get(RECORDS, key), self.store.kv_get(STATES, key)
        if record is None or state is None or state["status"] in ("error", "off"):
            return
        tenant, resource = record["tenant"], record["resource"]
        end = date_range(resource["end"]) if resource.get("end") else None
        if end is not None and end[1] <= time.time():
            self._save(key, dict(state, status="off", error=None))
            return
        head = self.store.last_seq(tenant)
        if state["seq"] > head:                      # the tenant was reset: start from its new head
            state["seq"] = head
        if state["status"] == "requested":
            error = self._send(record, state, "handshake", None, [])
            state.update(status="error" if error else "active", error=f"Handshake failed: {error}" if error else None)
            self._save(key, state)
            if error:
                return
        try:
            _, parsed = parse_criteria(resource["criteria"], tenant)
        except FhirError as failure:
            self._save(key, dict(state, status="error", error=failure.issues[0].message))
            return
        del parsed                                   # checked; each event gets a fresh parse (it mutates)
        # Stop within round_seconds (+ one delivery's timeout), well inside the lease, so that no
        # other process can take the lease while this one still sends.
        while not self._stopped and time.monotonic() - started < self.limits.round_seconds:
            events = self.store.events(tenant, state["seq"], self.limits.batch)
            if not events:
                break
            for event in events:
                if self._stopped or time.monotonic() - started >= self.limits.round_seconds:
                    break
                matched = self._matches(record, event)
                if matched:
                    error = self._send(record, state, "event-notification", event, matched)
                    if error:
                        self._failed(key, state, event, error)
                        return
                    state.update(count=state["count"] + 1, failures=0, error=None)
                state["seq"] = event["seq"]
                if matched:
                    self._save(key, state)
        self._save(key, state)

    def _failed(self, key: str, state: dict, event: dict, error: str) -> None:
        failures = state["failures"] + 1
        delay = min(self.limits.retry_seconds * 2 ** (failures - 1), self.limits.max_retry_seconds)
        state.update(failures=failures, retry_at=time.time() + delay)
        if failures >= self.limits.max_attempts:
            state.update(status="error", error=f"Delivery of event {event['seq']} failed {failures} times in a "
                                               f"row; last: {error}. PUT the Subscription with status requested "
                                               f"to start again from that event.")
        self._save(key, state)

    def _save(self, key: str, state: dict) -> None:
        self.store.kv_put(STATES, key, state)

    # -- what matches, and what goes out --------------------------------------------------------------

    def _matches(self, record: dict, event: dict) -> list[Stored]:
        """The event's changed resources of the criteria's type that the criteria select and the
        owner may see, in the event's order: the written ones as current versions, the deleted
        ones as their deletion versions (`deleted`, with no content)."""
        tenant, criteria = record["tenant"], record["resource"]["criteria"]
        changes = [c for c in event["changes"] if c["type"] == criteria.partition("?")[0]]
        if not changes:
            return []
        visibility = rules.Visibility(self.store, tenant, Actor(**record["owner"]))
        found = self._written(criteria, tenant, visibility, [c for c in changes if c["method"] != "DELETE"])
        found += self._deleted(criteria, tenant, visibility, event, [c for c in changes if c["method"] == "DELETE"])
        order = {(c["id"], c["version"]): position for position, c in enumerate(changes)}
        return sorted(found, key=lambda s: order[(s.resource["id"], s.version)])

    def _written(self, criteria: str, tenant: str, visibility: rules.Visibility, changes: list[dict]) -> list[Stored]:
        """Written resources as the platform's search finds them now. One changed again since
        this event is left to that later event (it is notified once, in its newest version)."""
        versions = {c["id"]: c["version"] for c in changes}
        if not versions:
            return []
        _, parsed = parse_criteria(criteria, tenant)
        query = parsed.query
        ids = sorted(versions)
        query.where.append((f"r.id IN ({','.join('?' * len(ids))})", ids))
        query.where += [fragment for _, fragment in visibility.filters(query.rtype)]
        query.count, query.offset = len(ids), 0
        _, found = self.store.search(query)
        return [s for s in found if s.version == versions[s.resource["id"]]]

    def _deleted(self, criteria: str, tenant: str, visibility: rules.Visibility, event: dict,
                 changes: list[dict]) -> list[Stored]:
        """Deleted resources whose last version before the deletion the criteria select and the
        owner could see (a deleted resource matches no search, so that version is read from the
        history). What the owner could not see stays unsaid, its id too. A deletion is notified
        with its own event even if the resource was written again later: it is history."""
        gone = []
        for change in changes:
            before = self.store.vread(tenant, change["type"], change["id"], change["version"] - 1)
            if before is None or before.deleted or visibility.withheld(before) is not None:
                continue
            if _PAST.selects(criteria, before):
                gone.append(Stored({"resourceType": change["type"], "id": change["id"]}, change["version"],
                                   event["recorded"], True, before.source, change["patient"]))
        return gone

    def _send(self, record: dict, state: dict, kind: str, event: dict | None, matched: list[Stored]) -> str | None:
        """POST one notification; None when the endpoint took it (2xx), else what went wrong."""
        resource, sid = record["resource"], record["id"]
        channel = resource["channel"]
        number = state["count"] + (1 if event else 0)
        headers = {"User-Agent": "sandkasse-platform", "X-Sandkasse-Subscription": f"{TYPE}/{sid}",
                   "X-Sandkasse-Notification-Type": kind, "X-Sandkasse-Event-Number": str(number)}
        if event is not None:
            headers["X-Sandkasse-Event-Seq"] = str(event["seq"])
        for line in channel.get("header") or []:
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        body = b""
        if channel.get("payload"):
            headers["Content-Type"] = f"{PAYLOAD}; charset=utf-8"
            body = json.dumps(self._bundle(record, state, kind, event, matched, number), ensure_ascii=False).encode()
        try:
            response = self._client().post(channel["endpoint"], content=body, headers=headers)
            error = None if 200 <= response.status_code < 300 else f"the endpoint answered HTTP {response.status_code}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:300]
        if matched:
            self._audit(record, kind, event, matched, error, bool(body))
        return error

    def _audit(self, record: dict, kind: str, event: dict | None, matched: list[Stored], error: str | None,
               with_payload: bool) -> None:
        """Every notification about patient data is an access by the owner, with its purpose."""
        owner = Actor(**record["owner"])
        what = "notification with resources" if with_payload else "notification (ping)"
        detail = f"{TYPE}/{record['id']} {what}, event {event['seq'] if event else '-'}"
        if error:
            detail += f": not delivered ({error})"
        rows = [AuditRow("search", s.resource["resourceType"], None, patient, "4" if error else "0", detail)
                for patient, s in {s.patient: s for s in matched if s.patient}.items()]
        self.store.audit(record["tenant"], owner, rows, batched=True)

    def _bundle(self, record: dict, state: dict, kind: str, event: dict | None, matched: list[Stored],
                number: int) -> dict:
        base, sid = record["base"], record["id"]
        owner = Actor(**record["owner"])
        params: list[dict] = [
            {"name": "subscription", "valueReference": {"reference": f"{base}/{TYPE}/{sid}"}},
            {"name": "status", "valueCode": "active" if kind != "handshake" else "requested"},
            {"name": "type", "valueCode": kind},
            {"name": "events-since-subscription-start", "valueString": str(number)},
        ]
        if event is not None:
            root = base.removesuffix(f"/{record['tenant']}/fhir")
            params.append({"name": "notification-event", "part": [
                {"name": "event-number", "valueString": str(number)},
                {"name": "timestamp", "valueInstant": event["recorded"]},
                *({"name": "focus", "valueReference": {"reference": f"{s.reference}/_history/{s.version}"}}
                  for s in matched)]})
            params += [{"name": "hendelseslager-seq", "valueString": str(event["seq"])},
                       {"name": "feed", "valueUrl": f"{root}/{record['tenant']}/events?since={event['seq']}"}]
        entries = [{"fullUrl": f"urn:uuid:{uuid.uuid4()}",
                    "resource": {"resourceType": "Parameters", "parameter": params},
                    "request": {"method": "GET", "url": f"{TYPE}/{sid}/$status"}, "response": {"status": "200"}}]
        entries += [_entry(base, stored, owner) for stored in matched]
        return {"resourceType": "Bundle", "id": uuid.uuid4().hex, "type": "history", "timestamp": now()[0],
                "entry": entries}

    def _client(self) -> httpx.Client:
        if self._http is None or self._http[0] != os.getpid():
            self._http = (os.getpid(), httpx.Client(timeout=self.limits.timeout_seconds, follow_redirects=False))
        return self._http[1]


def _entry(base: str, stored: Stored, owner: Actor) -> dict:
    """One resource's entry of a notification Bundle: a creation (POST), an update (PUT) with the
    resource as the owner may see it, or a deletion (DELETE) without a resource."""
    if stored.deleted:
        request, status = {"method": "DELETE", "url": stored.reference}, "204"
    elif stored.version == 1:
        request, status = {"method": "POST", "url": stored.resource["resourceType"]}, "201"
    else:
        request, status = {"method": "PUT", "url": stored.reference}, "200"
    entry = {"fullUrl": f"{base}/{stored.reference}", "request": request,
             "response": {"status": status, "etag": f'W/"{stored.version}"', "lastModified": stored.last_updated}}
    if not stored.deleted:
        entry["resource"] = rules.present(stored, owner)
    return entry


class _PastVersions:
    """Whether a criteria selects a version that is no longer current (the last one before a
    deletion). The platform's search is SQL over an index of current versions only, and a
    deletion removes its resource's index rows, so the version is copied, with the index rows the
    intake writes for it (`searchparams.index`), into a private in-memory SQLite storage, and the
    criteria's own Query runs there: the same parameters and semantics as GET [type]?criteria
    (the storage's SQL is written once for SQLite and PostgreSQL, so a PostgreSQL platform's
    criteria mean the same here). The copy is wiped after each check. One per process: a
    connection must not cross a fork."""

    TENANT = "past-versions"
    COPIER = Actor("sandkasse-subscriptions")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._store: tuple[int, SqliteStorage] | None = None

    def selects(self, criteria: str, version: Stored) -> bool:
        resource = version.resource
        written = Write("PUT", resource["resourceType"], resource["id"], resource, searchparams.index(resource))
        with self._lock:
            store = self._storage()
            try:
                # Recorded at the version's own time: _lastUpdated in the criteria sees when it was written.
                store.append(self.TENANT, "copy", [written], self.COPIER, lambda write, before: None,
                             recorded=version.last_updated)
                _, parsed = parse_criteria(criteria, self.TENANT)
                query = parsed.query
                query.where.append(("r.id=?", [resource["id"]]))
                return store.count(query) > 0
            finally:
                store.reset_tenant(self.TENANT)

    def _storage(self) -> SqliteStorage:
        if self._store is None or self._store[0] != os.getpid():
            store = SqliteStorage(":memory:")
            store.create_tenant(self.TENANT, "scratch", None)
            self._store = (os.getpid(), store)
        return self._store[1]


_PAST = _PastVersions()


def _run(ref: "weakref.ref[Dispatcher]") -> None:
    idle_since = time.monotonic()
    while True:
        me = ref()
        if me is None or me._stopped:
            return
        me._wake.clear()                             # a wake during the round brings the next one at once
        try:
            busy = me.run_once()
        except Exception as error:  # noqa: BLE001 - a database hiccup must not end deliveries; next round retries
            me._warn(error)
            busy = True
        if busy:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > me.IDLE_EXIT_SECONDS and me._idle_exit():
            return
        wake, poll = me._wake, me.limits.poll_seconds
        del me
        wake.wait(poll)


def not_supported(interaction: str) -> FhirError:
    return FhirError(404, Issue("error", "not-supported", f"{TYPE} has no {interaction} here.", TYPE, rule=RULE,
                                fix="Subscriptions support create, read, update, delete and search (status, _id)."))

