"""The one storage interface of the platform, written once in portable SQL.

SQLite and PostgreSQL differ only in how a connection is opened, how a write transaction starts
and how placeholders are spelled; everything else (schema, event append, projections, search,
audit, key-value state) is here. All state lives in the database, so several platform processes
can serve one database.

Tables:
  tenants    one row per platform instance: kind, kommunenummer, event sequence, fault rules
  events     the hendelseslager: append-only, per-tenant gap-free sequence, the full resources;
             an event from a FHIR message names it (`message`), so a resend is recognised
  resources  projection: the current version of each resource (deleted ones stay, flagged), with
             its row number `rno` (below)
  history    projection: every version ever stored (never hard-deleted)
  tokens     search index: tokens, references and strings per (resource, parameter), with the
             resource's patient (a search within one patient's data goes straight to its matches)
  dates      search index: date ranges in epoch seconds per (resource, parameter)
             Index rows name their resource by `rno`, a number given when the resource is first
             stored: its event's seq * RNO_PER_EVENT + its place in the event. New resources thus
             get ascending numbers, so their index rows land at the end of the by-resource indexes
             instead of on a random page for each random id (every page a commit touches is
             written to the WAL and copied back by the checkpoint).
  blocks     projection of active sperring Consents: which party is blocked from which data
  audit      one row per access to patient data (rendered as AuditEvent)
  kv         small shared state for the security and operator parts
"""
from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone

from conformance.validator import Issue
from mock_platform.errors import FhirError
from mock_platform.searchparams import IndexRows
from mock_platform.storage.requestlog import REQUEST_LOG_SCHEMA, RequestLogMixin
from mock_platform.storage.shutdown import flush_at_exit

SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, kommunenummer TEXT, created TEXT NOT NULL,
    seq BIGINT NOT NULL DEFAULT 0, faults TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS events (
    tenant TEXT NOT NULL, seq BIGINT NOT NULL, recorded TEXT NOT NULL, kind TEXT NOT NULL,
    client_id TEXT, organisation TEXT, body TEXT NOT NULL, message TEXT,
    PRIMARY KEY (tenant, seq)
);
CREATE TABLE IF NOT EXISTS resources (
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    last_updated TEXT NOT NULL, updated_epoch DOUBLE PRECISION NOT NULL, deleted INTEGER NOT NULL,
    source TEXT, patient TEXT, body TEXT NOT NULL, rno BIGINT,
    PRIMARY KEY (tenant, type, id)
);
CREATE INDEX IF NOT EXISTS resources_patient ON resources (tenant, patient);
CREATE TABLE IF NOT EXISTS history (
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    last_updated TEXT NOT NULL, deleted INTEGER NOT NULL, seq BIGINT NOT NULL, source TEXT,
    patient TEXT, body TEXT NOT NULL,
    PRIMARY KEY (tenant, type, id, version)
);
CREATE TABLE IF NOT EXISTS tokens (
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    system TEXT, value TEXT NOT NULL, patient TEXT, rno BIGINT
);
CREATE TABLE IF NOT EXISTS dates (
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,
    lo DOUBLE PRECISION NOT NULL, hi DOUBLE PRECISION NOT NULL, rno BIGINT
);
CREATE INDEX IF NOT EXISTS dates_lookup ON dates (tenant, type, param, lo);
CREATE TABLE IF NOT EXISTS blocks (
    tenant TEXT NOT NULL, consent TEXT NOT NULL, patient TEXT NOT NULL, actor_kind TEXT NOT NULL,
    actor_value TEXT NOT NULL, classes TEXT, refs TEXT
);
CREATE INDEX IF NOT EXISTS blocks_actor ON blocks (tenant, actor_kind, actor_value);
CREATE INDEX IF NOT EXISTS blocks_consent ON blocks (tenant, consent);
CREATE TABLE IF NOT EXISTS audit (
    tenant TEXT NOT NULL, id TEXT NOT NULL, recorded TEXT NOT NULL,
    recorded_epoch DOUBLE PRECISION NOT NULL, client_id TEXT, organisation TEXT, purpose TEXT,
    user_hpr TEXT, action TEXT NOT NULL, type TEXT, rid TEXT, patient TEXT, outcome TEXT NOT NULL,
    detail TEXT,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX IF NOT EXISTS audit_patient ON audit (tenant, patient, recorded_epoch);
CREATE TABLE IF NOT EXISTS kv (
    namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_at DOUBLE PRECISION,
    PRIMARY KEY (namespace, key)
);
""" + REQUEST_LOG_SCHEMA

# After SCHEMA and the migrations (indexes on columns that a database of an earlier version gets
# only from its migration).
#   tokens_search  a search by value; ending with the patient, it also takes a search within one
#                  patient's data straight to that patient's matches of a code, so its cost follows
#                  the number of matches, not the length of the patient's history
#   *_by_resource  a resource's own index rows (replaced when it changes; EXISTS in searches)
INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS events_message ON events (tenant, message);
CREATE INDEX IF NOT EXISTS tokens_search ON tokens (tenant, type, param, value, patient, system, id);
CREATE INDEX IF NOT EXISTS tokens_by_resource ON tokens (tenant, rno, param);
CREATE INDEX IF NOT EXISTS dates_by_resource ON dates (tenant, rno, param, lo, hi);
"""
# Indexes of earlier versions that those replace.
RETIRED_INDEXES = ("tokens_lookup", "tokens_patient", "tokens_owner", "dates_owner")

RNO_PER_EVENT = 1 << 20          # more resources than one event (a 20 MB Bundle) can hold


def owned_by_r(alias: str) -> str:
    """SQL: the index rows under `alias` (tokens or dates) are those of the resource `r`."""
    return f"{alias}.tenant=r.tenant AND {alias}.rno=r.rno"

SOURCE_PREFIX = "https://sandkasse.no/fhir/sid/helseid-client/"


def now() -> tuple[str, float]:
    moment = datetime.now(timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"), moment.timestamp()


def instant(recorded: str) -> tuple[str, float]:
    """A recorded instant as stored (…Z) with its epoch seconds, as now() gives them."""
    return recorded, datetime.fromisoformat(recorded.replace("Z", "+00:00")).timestamp()


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Stored:
    resource: dict
    version: int
    last_updated: str
    deleted: bool = False
    source: str | None = None       # the client id of the source system that created it
    patient: str | None = None      # "Patient/<id>" for patient data
    rno: int | None = field(default=None, compare=False, repr=False)   # its index rows' key (current versions)

    @property
    def reference(self) -> str:
        return f"{self.resource['resourceType']}/{self.resource['id']}"


@dataclass(frozen=True)
class Actor:
    """Who does something, as recorded in events and the audit log."""
    client_id: str
    organisation: str | None = None
    purpose: str | None = None
    user_hpr: str | None = None


@dataclass(frozen=True)
class Block:
    consent: str                    # "Consent/<id>"
    patient: str
    actor_kind: str                 # org | hpr | client
    actor_value: str
    classes: tuple[str, ...] | None = None   # resource types blocked; None with refs None: everything
    refs: tuple[str, ...] | None = None      # single resources blocked


@dataclass
class Query:
    """A search as SQL fragments over `resources r` (placeholders are '?')."""
    tenant: str
    rtype: str
    where: list[tuple[str, list]] = field(default_factory=list)
    order: str = "r.updated_epoch, r.id"
    count: int = 50
    offset: int = 0


@dataclass
class Write:
    method: str                               # PUT | POST | DELETE
    rtype: str
    rid: str
    resource: dict | None = None              # None for DELETE
    index: IndexRows | None = None
    blocks: list[Block] = field(default_factory=list)
    if_match: int | None = None
    if_none_exist: Query | None = None
    location: str = ""                        # FHIRPath of the entry, for error messages


@dataclass(frozen=True)
class Outcome:
    stored: Stored
    status: str                               # "201 Created", "200 OK", "204 No Content"


@dataclass(frozen=True)
class AuditRow:
    action: str                               # read vread search history create update delete ...
    rtype: str | None
    rid: str | None
    patient: str | None
    outcome: str = "0"                        # AuditEvent.outcome: 0 success, 4 minor failure (refused)
    detail: str | None = None


Check = Callable[[Write, Stored | None], None]


class SqlStorage(RequestLogMixin):
    """Portable SQL; subclasses open connections and start write transactions."""

    placeholder = "?"

    def __init__(self) -> None:
        self._pool: list = []
        self._pool_pid = os.getpid()
        self._pool_lock = threading.Lock()
        self._changed = threading.Condition()
        self._tenant_cache: dict[str, tuple[float, dict]] = {}
        self._audit_buffer: list[tuple] = []
        self._audit_lock = threading.Lock()
        self._audit_flush_lock = threading.Lock()
        self._audit_flusher: tuple[int, threading.Thread] | None = None
        with self._conn() as conn:
            self._init_schema(conn)
        flush_at_exit(self.flush_audit, "audit rows")

    # -- connections (subclasses) ---------------------------------------------------------------

    def _connect(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _init_schema(self, conn) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @contextmanager
    def _write(self, conn) -> Iterator[None]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    @contextmanager
    def _conn(self) -> Iterator:
        """A pooled connection (per process: connections never cross a fork)."""
        with self._pool_lock:
            if self._pool_pid != os.getpid():
                self._pool, self._pool_pid = [], os.getpid()
            conn = self._pool.pop() if self._pool else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        except BaseException:
            self._discard_if_broken(conn)
            raise
        with self._pool_lock:
            if self._pool_pid == os.getpid() and len(self._pool) < 64:
                self._pool.append(conn)
                conn = None
        if conn is not None:
            conn.close()

    def _discard_if_broken(self, conn) -> None:
        pass

    def _create_schema(self, conn) -> None:
        """Tables, migrations of a database made by an earlier version, indexes; idempotent.
        The caller runs it in one transaction, serialised against other processes."""
        for statement in _statements(SCHEMA):
            self._exec(conn, statement)
        columns = [d[0] for d in self._exec(conn, "SELECT * FROM tokens WHERE 1=0").description]
        if "patient" not in columns:
            # Version 1 databases: tokens gain the patient of their resource (see INDEXES).
            self._exec(conn, "ALTER TABLE tokens ADD COLUMN patient TEXT")
            self._exec(conn, "UPDATE tokens SET patient = (SELECT r.patient FROM resources r WHERE "
                             "r.tenant=tokens.tenant AND r.type=tokens.type AND r.id=tokens.id)")
        if "rno" not in [d[0] for d in self._exec(conn, "SELECT * FROM resources WHERE 1=0").description]:
            self._number_resources(conn)
        if "message" not in [d[0] for d in self._exec(conn, "SELECT * FROM events WHERE 1=0").description]:
            self._exec(conn, "ALTER TABLE events ADD COLUMN message TEXT")     # version 2 databases
        for name in RETIRED_INDEXES:
            self._exec(conn, f"DROP INDEX IF EXISTS {name}")
        for statement in _statements(INDEXES):
            self._exec(conn, statement)

    def _number_resources(self, conn) -> None:
        """Version 2 databases: resources get row numbers and their index rows name them. The
        numbers are negative, so they never meet those that new resources get."""
        for table in ("resources", "tokens", "dates"):
            self._exec(conn, f"ALTER TABLE {table} ADD COLUMN rno BIGINT")
        self._exec(conn, "UPDATE resources SET rno = -n.number FROM (SELECT tenant, type, id, ROW_NUMBER() OVER "
                         "(PARTITION BY tenant ORDER BY type, id) AS number FROM resources) AS n "
                         "WHERE resources.tenant=n.tenant AND resources.type=n.type AND resources.id=n.id")
        for table in ("tokens", "dates"):
            self._exec(conn, f"UPDATE {table} SET rno = (SELECT r.rno FROM resources r WHERE r.tenant={table}.tenant "
                             f"AND r.type={table}.type AND r.id={table}.id)")

    def _sql(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def _exec(self, conn, sql: str, args: tuple | list = ()):
        return conn.execute(self._sql(sql), args)

    def _many(self, conn, sql: str, rows: list) -> None:
        if rows:
            cur = conn.cursor()
            cur.executemany(self._sql(sql), rows)

    # -- tenants ----------------------------------------------------------------------------------

    def create_tenant(self, tenant: str, kind: str, kommunenummer: str | None) -> bool:
        """False if the tenant exists already."""
        with self._conn() as conn, self._write(conn):
            cur = self._exec(conn, "INSERT INTO tenants (id, kind, kommunenummer, created) VALUES (?,?,?,?) "
                                   "ON CONFLICT (id) DO NOTHING", (tenant, kind, kommunenummer, now()[0]))
            return cur.rowcount == 1

    def cached_tenant(self, tenant: str, max_age: float = 1.0) -> dict | None:
        """The tenant row, at most `max_age` seconds old (changes made by this process are seen at
        once; other processes' fault rules within max_age). Saves a query on every request."""
        hit = self._tenant_cache.get(tenant)
        if hit is not None and time.monotonic() - hit[0] < max_age:
            return hit[1]
        row = self.get_tenant(tenant)
        if row is not None:
            self._tenant_cache[tenant] = (time.monotonic(), row)
        return row

    def get_tenant(self, tenant: str) -> dict | None:
        with self._conn() as conn:
            row = self._exec(conn, "SELECT id, kind, kommunenummer, created, seq, faults FROM tenants "
                                   "WHERE id=?", (tenant,)).fetchone()
        return _tenant(row) if row else None

    def list_tenants(self) -> list[dict]:
        with self._conn() as conn:
            rows = self._exec(conn, "SELECT id, kind, kommunenummer, created, seq, faults FROM tenants "
                                    "ORDER BY id").fetchall()
        return [_tenant(r) for r in rows]

    def reset_tenant(self, tenant: str) -> None:
        """Wipe a tenant's data and audit log (a vendor's test tenant starts over); the tenant stays."""
        self.flush_audit()
        self._tenant_cache.pop(tenant, None)
        with self._conn() as conn, self._write(conn):
            for table in ("events", "resources", "history", "tokens", "dates", "blocks", "audit"):
                self._exec(conn, f"DELETE FROM {table} WHERE tenant=?", (tenant,))
            self._exec(conn, "UPDATE tenants SET seq=0 WHERE id=?", (tenant,))

    def set_faults(self, tenant: str, rules: list[dict]) -> None:
        self._tenant_cache.pop(tenant, None)
        with self._conn() as conn, self._write(conn):
            self._exec(conn, "UPDATE tenants SET faults=? WHERE id=?", (_dumps(rules), tenant))

    def consume_fault(self, tenant: str, index: int) -> bool:
        """Use up one firing of a rule with `times`; False if it is exhausted (another process won)."""
        self._tenant_cache.pop(tenant, None)
        with self._conn() as conn, self._write(conn):
            row = self._exec(conn, "SELECT faults FROM tenants WHERE id=?", (tenant,)).fetchone()
            rules = json.loads(row[0]) if row else []
            if index >= len(rules) or rules[index].get("remaining", 1) <= 0:
                return False
            rules[index]["remaining"] = rules[index].get("remaining", 1) - 1
            self._exec(conn, "UPDATE tenants SET faults=? WHERE id=?", (_dumps(rules), tenant))
            return True

    # -- the hendelseslager and its projections ---------------------------------------------------

    def append(self, tenant: str, kind: str, writes: list[Write], actor: Actor, check: Check,
               recorded: str | None = None, message: dict | None = None) -> tuple[int | None, list[Outcome]]:
        """Apply writes atomically: one event with all of them, projections, audit; or nothing.

        Returns the event's sequence number (None if nothing changed, e.g. a conditional create
        that found its resource) and one outcome per write. `recorded` (an instant, …Z) stands
        for now where a copy must keep the time a version was first written. `message` (a FHIR
        message's identity, with its `key`) goes into the event, once: MessageProcessed if an
        event of the tenant has that key already (checked while the tenant's writers queue, so
        of two copies sent at once exactly one is stored).
        """
        try:
            seq, outcomes = self._append(tenant, kind, writes, actor, check,
                                         instant(recorded) if recorded is not None else now(), message)
        except _NothingChanged as nothing:
            return None, nothing.outcomes
        with self._changed:
            self._changed.notify_all()
        return seq, outcomes

    def _append(self, tenant: str, kind: str, writes: list[Write], actor: Actor, check: Check,
                moment: tuple[str, float], message: dict | None) -> tuple[int, list[Outcome]]:
        recorded, epoch = moment
        with self._conn() as conn, self._write(conn):
            # Taking the tenant's sequence first serialises the tenant's writers (row lock in
            # PostgreSQL, write lock in SQLite), so checks below see a stable state.
            self._tenant_cache.pop(tenant, None)
            row = self._exec(conn, "UPDATE tenants SET seq = seq + 1 WHERE id=? RETURNING seq",
                             (tenant,)).fetchone()
            if row is None:
                raise FhirError(404, Issue("error", "not-found", f"Unknown tenant '{tenant}'.",
                                           fix="Create the tenant first (POST /admin/tenants)."))
            seq = row[0]
            if message is not None:
                known = self._exec(conn, "SELECT seq FROM events WHERE tenant=? AND message=?",
                                   (tenant, message["key"])).fetchone()
                if known is not None:
                    raise MessageProcessed(known[0])
            # The current version of every resource the writes touch, in one query; later writes
            # of the same resource in this request see the earlier ones through `current`.
            current = self._read_keys(conn, tenant, [(w.rtype, w.rid) for w in writes if w.if_none_exist is None])
            rows = _Rows(tenant, seq, recorded, epoch)
            outcomes: list[Outcome] = []
            audit: list[AuditRow] = []
            for write in writes:
                if write.if_none_exist is not None:
                    rows.flush(self, conn)      # the condition must see this request's earlier writes
                    _, found = self._search(conn, write.if_none_exist)
                    if len(found) > 1:
                        raise FhirError(412, Issue(
                            "error", "duplicate", f"The If-None-Exist criteria match {len(found)} resources.",
                            expression=write.rtype, rule="sk-platform-conditional-create",
                            fix="Make the condition specific, e.g. identifier=system|value."))
                    if found:
                        outcomes.append(Outcome(found[0], "200 OK"))
                        continue
                key = (write.rtype, write.rid)
                if key not in current:
                    current |= self._read_keys(conn, tenant, [key])
                before = current[key]
                check(write, before)
                if write.method == "DELETE":
                    if before is None or before.deleted:
                        outcomes.append(Outcome(before or Stored({"resourceType": write.rtype, "id": write.rid},
                                                                 0, recorded, True), "204 No Content"))
                        continue
                    body = {"resourceType": write.rtype, "id": write.rid, "meta": dict(before.resource.get("meta", {}))}
                    source, patient = before.source, before.patient
                else:
                    body = dict(write.resource or {})
                    body["meta"] = dict(body.get("meta") or {})
                    source = before.source if before is not None and not before.deleted else actor.client_id
                    patient = write.index.patient if write.index else None
                version = before.version + 1 if before else 1
                body["meta"].update(versionId=str(version), lastUpdated=recorded, source=SOURCE_PREFIX + source)
                deleted = write.method == "DELETE"
                rno = before.rno if before is not None else seq * RNO_PER_EVENT + len(rows.changes)
                stored = Stored(body, version, recorded, deleted, source, patient, rno)
                rows.add(write, stored, _dumps(body), replaces=before is not None)
                current[key] = stored
                outcomes.append(Outcome(stored, "204 No Content" if deleted else
                                        "201 Created" if before is None or before.deleted else "200 OK"))
                audit.append(AuditRow("delete" if deleted else "create" if version == 1 else "update",
                                      write.rtype, write.rid, patient))
            if not rows.changes:
                raise _NothingChanged(outcomes)
            rows.flush(self, conn)
            self._exec(conn, "INSERT INTO events (tenant, seq, recorded, kind, client_id, organisation, body, message) "
                             "VALUES (?,?,?,?,?,?,?,?)",
                       (tenant, seq, recorded, kind, actor.client_id, actor.organisation, rows.event_body(message),
                        message["key"] if message is not None else None))
            self._audit(conn, tenant, actor, audit, recorded, epoch)
        return seq, outcomes

    _INSERT_HISTORY = "INSERT INTO history VALUES (?,?,?,?,?,?,?,?,?,?)"
    # The row number stays what the resource's first version was given (an update keeps it).
    _UPSERT_RESOURCE = ("INSERT INTO resources (tenant, type, id, version, last_updated, updated_epoch, deleted, "
                        "source, patient, body, rno) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                        "ON CONFLICT (tenant, type, id) DO UPDATE SET version=excluded.version, "
                        "last_updated=excluded.last_updated, updated_epoch=excluded.updated_epoch, "
                        "deleted=excluded.deleted, source=excluded.source, patient=excluded.patient, "
                        "body=excluded.body")

    def _reindex(self, conn, tenant: str, write: Write, rno: int, deleted: bool, fresh: bool) -> None:
        """Replace one resource's index rows (rebuild_projections; _append batches through _Rows)."""
        rows = _Rows(tenant, 0, "", 0.0)
        rows.index(write, rno, None if deleted else write.index, replaces=not fresh)
        rows.flush_index(self, conn)

    def rebuild_projections(self, tenant: str, derive: Callable[[dict, Callable[[str], dict | None]],
                                                                tuple[IndexRows, list[Block]]]) -> int:
        """Throw the tenant's projections away and replay its events into them: the information
        services are derived from the hendelseslager alone. `derive(resource, resolve)` gives a
        resource's index rows and sperring blocks. Returns the number of events replayed."""
        with self._conn() as conn, self._write(conn):
            for table in ("resources", "history", "tokens", "dates", "blocks"):
                self._exec(conn, f"DELETE FROM {table} WHERE tenant=?", (tenant,))
            rows = self._exec(conn, "SELECT seq, recorded, body FROM events WHERE tenant=? ORDER BY seq",
                              (tenant,)).fetchall()
            state: dict[str, dict] = {}
            numbers: dict[str, int] = {}          # each resource's row number, as _append gave it
            for seq, recorded, body in rows:
                epoch = instant(recorded)[1]
                for place, change in enumerate(json.loads(body)["changes"]):
                    key = f"{change['type']}/{change['id']}"
                    rno = numbers.setdefault(key, seq * RNO_PER_EVENT + place)
                    deleted = change["method"] == "DELETE"
                    resource = change["resource"]
                    if deleted:
                        meta = dict(state.get(key, {}).get("meta", {}))
                        meta.update(versionId=str(change["version"]), lastUpdated=recorded)
                        resource = {"resourceType": change["type"], "id": change["id"], "meta": meta}
                    source = resource["meta"].get("source", "").removeprefix(SOURCE_PREFIX) or None
                    if deleted:
                        resource["meta"]["source"] = SOURCE_PREFIX + (source or "")
                    text = _dumps(resource)
                    args = (tenant, change["type"], change["id"], change["version"], recorded)
                    self._exec(conn, self._INSERT_HISTORY, (*args, int(deleted), seq, source, change["patient"], text))
                    self._exec(conn, self._UPSERT_RESOURCE,
                               (*args, epoch, int(deleted), source, change["patient"], text, rno))
                    write = Write(change["method"], change["type"], change["id"], None if deleted else resource)
                    if not deleted:
                        write.index, write.blocks = derive(resource, lambda ref: state.get(ref))
                    self._reindex(conn, tenant, write, rno, deleted, fresh=key not in state)
                    state[key] = resource
        return len(rows)

    def wait_for_events(self, tenant: str, since: int, timeout: float) -> None:
        """Block until the tenant has an event after `since` or the timeout ends.

        Writers in this process wake us at once; other processes' writes are seen by polling.
        """
        deadline = time.monotonic() + timeout
        while self.last_seq(tenant) <= since:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            with self._changed:
                self._changed.wait(min(left, 0.1))

    def last_seq(self, tenant: str) -> int:
        with self._conn() as conn:
            row = self._exec(conn, "SELECT seq FROM tenants WHERE id=?", (tenant,)).fetchone()
        return row[0] if row else 0

    def events(self, tenant: str, since: int, count: int) -> list[dict]:
        with self._conn() as conn:
            rows = self._exec(conn, f"SELECT {self._EVENT_COLS} FROM events WHERE tenant=? AND seq>? ORDER BY seq "
                                    "LIMIT ?", (tenant, since, count)).fetchall()
        return [_event(r) for r in rows]

    def message_event(self, tenant: str, key: str) -> dict | None:
        """The event a FHIR message (its `key`, as given to append) became, if it did."""
        with self._conn() as conn:
            row = self._exec(conn, f"SELECT {self._EVENT_COLS} FROM events WHERE tenant=? AND message=?",
                             (tenant, key)).fetchone()
        return _event(row) if row else None

    _EVENT_COLS = "seq, recorded, kind, client_id, organisation, body"

    # -- reads ------------------------------------------------------------------------------------

    _COLS = "r.body, r.version, r.last_updated, r.deleted, r.source, r.patient, r.rno"

    def _read(self, conn, tenant: str, rtype: str, rid: str) -> Stored | None:
        row = self._exec(conn, f"SELECT {self._COLS} FROM resources r WHERE r.tenant=? AND r.type=? AND r.id=?",
                         (tenant, rtype, rid)).fetchone()
        return _stored(row) if row else None

    _KEYS_PER_QUERY = 500       # well under every SQLite build's limit of bound parameters

    def _read_keys(self, conn, tenant: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Stored | None]:
        """The current versions of (type, id) keys, one query per type (None: never stored)."""
        found: dict[tuple[str, str], Stored | None] = dict.fromkeys(keys)
        by_type: dict[str, list[str]] = {}
        for rtype, rid in found:
            by_type.setdefault(rtype, []).append(rid)
        for rtype, ids in by_type.items():
            for at in range(0, len(ids), self._KEYS_PER_QUERY):
                chunk = ids[at:at + self._KEYS_PER_QUERY]
                rows = self._exec(conn, f"SELECT r.id, {self._COLS} FROM resources r WHERE r.tenant=? AND r.type=? "
                                        f"AND r.id IN ({','.join('?' * len(chunk))})", [tenant, rtype, *chunk])
                for row in rows.fetchall():
                    found[(rtype, row[0])] = _stored(row[1:])
        return found

    def read(self, tenant: str, rtype: str, rid: str) -> Stored | None:
        with self._conn() as conn:
            return self._read(conn, tenant, rtype, rid)

    def read_many(self, tenant: str, references: list[str]) -> list[Stored]:
        """Current, not deleted, versions of 'Type/id' references (for _include)."""
        keys = [(rtype, rid) for rtype, _, rid in (ref.partition("/") for ref in references)]
        with self._conn() as conn:
            found = self._read_keys(conn, tenant, keys)
        return [s for s in found.values() if s is not None and not s.deleted]

    def vread(self, tenant: str, rtype: str, rid: str, version: int) -> Stored | None:
        with self._conn() as conn:
            row = self._exec(conn, "SELECT body, version, last_updated, deleted, source, patient FROM history "
                                   "WHERE tenant=? AND type=? AND id=? AND version=?",
                             (tenant, rtype, rid, version)).fetchone()
        return _stored(row) if row else None

    def written_for(self, tenant: str, rtype: str, rid: str, version: int) -> tuple[bool, str | None]:
        """(whether the version exists, the organisation of the event that wrote it): for whom a
        version was written, deleted resources' versions included."""
        with self._conn() as conn:
            row = self._exec(conn, "SELECT e.organisation FROM history h JOIN events e ON e.tenant=h.tenant "
                                   "AND e.seq=h.seq WHERE h.tenant=? AND h.type=? AND h.id=? AND h.version=?",
                             (tenant, rtype, rid, version)).fetchone()
        return (True, row[0]) if row else (False, None)

    def history(self, tenant: str, rtype: str, rid: str | None, count: int, offset: int) -> tuple[int, list[Stored]]:
        where, args = "tenant=? AND type=?", [tenant, rtype]
        if rid is not None:
            where, args = where + " AND id=?", args + [rid]
        with self._conn() as conn:
            total = self._exec(conn, f"SELECT COUNT(*) FROM history WHERE {where}", args).fetchone()[0]
            rows = self._exec(conn, f"SELECT body, version, last_updated, deleted, source, patient FROM history "
                                    f"WHERE {where} ORDER BY seq DESC, id, version DESC LIMIT ? OFFSET ?",
                              args + [count, offset]).fetchall()
        return total, [_stored(r) for r in rows]

    def search(self, query: Query) -> tuple[int, list[Stored]]:
        with self._conn() as conn:
            return self._search(conn, query)

    def count(self, query: Query) -> int:
        with self._conn() as conn:
            return self._count(conn, query)

    def _count(self, conn, query: Query) -> int:
        where, args = self._where(query)
        return self._exec(conn, f"SELECT COUNT(*) FROM resources r WHERE {where}", args).fetchone()[0]

    def _where(self, query: Query) -> tuple[str, list]:
        parts, args = ["r.tenant=?", "r.type=?", "r.deleted=0"], [query.tenant, query.rtype]
        for fragment, values in query.where:
            parts.append(fragment)
            args.extend(values)
        return " AND ".join(parts), args

    def _search(self, conn, query: Query) -> tuple[int, list[Stored]]:
        """The total and one page. Both come from one pass over the matches (a window count beside
        the sort), since counting them separately doubled the cost of a search whose matches grow
        (a patient's measurements); the page is chosen by id and only its bodies are read. An
        empty page needs a count of its own only when it is not the first (or holds no entries)."""
        where, args = self._where(query)
        rows = self._exec(conn, f"SELECT r.id, COUNT(*) OVER () FROM resources r WHERE {where} "
                                f"ORDER BY {query.order} LIMIT ? OFFSET ?",
                          [*args, query.count, query.offset]).fetchall()
        if not rows:
            return (self._count(conn, query) if query.offset or not query.count else 0), []
        found = self._read_keys(conn, query.tenant, [(query.rtype, row[0]) for row in rows])
        return rows[0][1], [found[(query.rtype, row[0])] for row in rows]

    # -- sperring ---------------------------------------------------------------------------------

    def blocks_for(self, tenant: str, actor_keys: list[tuple[str, str]]) -> list[Block]:
        """The blocks that apply to a party, given as (kind, value) pairs (org, hpr, client)."""
        if not actor_keys:
            return []
        cond = " OR ".join("(actor_kind=? AND actor_value=?)" for _ in actor_keys)
        args = [tenant] + [v for pair in actor_keys for v in pair]
        with self._conn() as conn:
            rows = self._exec(conn, f"SELECT consent, patient, actor_kind, actor_value, classes, refs FROM blocks "
                                    f"WHERE tenant=? AND ({cond})", args).fetchall()
        return [Block(r[0], r[1], r[2], r[3], tuple(json.loads(r[4])) if r[4] is not None else None,
                      tuple(json.loads(r[5])) if r[5] is not None else None) for r in rows]

    # -- audit ------------------------------------------------------------------------------------

    def _audit(self, conn, tenant: str, actor: Actor, rows: list[AuditRow], recorded: str, epoch: float) -> None:
        self._many(conn, "INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   [(tenant, _audit_id(epoch), recorded, epoch, actor.client_id, actor.organisation, actor.purpose,
                     actor.user_hpr, r.action, r.rtype, r.rid, r.patient, r.outcome, r.detail) for r in rows])

    def audit(self, tenant: str, actor: Actor, rows: list[AuditRow], batched: bool = False) -> None:
        """Record accesses. Batched rows (reads) are committed by a background thread within
        AUDIT_FLUSH_SECONDS, many per transaction, instead of one write transaction per read;
        queries of the audit trail in this process flush first."""
        if not rows:
            return
        recorded, epoch = now()
        if not batched:
            with self._conn() as conn, self._write(conn):
                self._audit(conn, tenant, actor, rows, recorded, epoch)
            return
        with self._audit_lock:
            self._audit_buffer += [(tenant, actor, rows, recorded, epoch)]
            self._ensure_flusher()

    AUDIT_FLUSH_SECONDS = 0.05

    def _ensure_flusher(self) -> None:
        if self._audit_flusher is not None and self._audit_flusher[0] == os.getpid() \
                and self._audit_flusher[1].is_alive():
            return
        thread = threading.Thread(target=self._flush_loop, name="sandkasse-audit", daemon=True)
        self._audit_flusher = (os.getpid(), thread)
        thread.start()

    def _flush_loop(self) -> None:
        while True:
            time.sleep(self.AUDIT_FLUSH_SECONDS)
            try:
                self.flush_audit()
            except Exception:  # noqa: BLE001 - the rows stay buffered and the next round retries
                pass

    def flush_audit(self) -> None:
        # One flush at a time: a caller that flushes before querying must also wait for the rows
        # a concurrent flush has taken from the buffer but not yet committed.
        with self._audit_flush_lock:
            with self._audit_lock:
                pending, self._audit_buffer = self._audit_buffer, []
            if not pending:
                return
            try:
                with self._conn() as conn, self._write(conn):
                    for tenant, actor, rows, recorded, epoch in pending:
                        self._audit(conn, tenant, actor, rows, recorded, epoch)
            except BaseException:
                with self._audit_lock:
                    self._audit_buffer[:0] = pending
                raise

    def audit_trail(self, tenant: str, patient: str | None, audit_id: str | None, since: float | None,
                    count: int, offset: int) -> tuple[int, list[dict]]:
        self.flush_audit()
        where, args = ["tenant=?"], [tenant]
        if patient is not None:
            where.append("patient=?")
            args.append(patient)
        if audit_id is not None:
            where.append("id=?")
            args.append(audit_id)
        if since is not None:
            where.append("recorded_epoch>=?")
            args.append(since)
        clause = " AND ".join(where)
        with self._conn() as conn:
            total = self._exec(conn, f"SELECT COUNT(*) FROM audit WHERE {clause}", args).fetchone()[0]
            rows = self._exec(conn, "SELECT id, recorded, client_id, organisation, purpose, user_hpr, action, type, "
                                    f"rid, patient, outcome, detail FROM audit WHERE {clause} "
                                    "ORDER BY recorded_epoch, id LIMIT ? OFFSET ?", args + [count, offset]).fetchall()
        keys = ("id", "recorded", "client_id", "organisation", "purpose", "user_hpr", "action", "type", "rid",
                "patient", "outcome", "detail")
        return total, [dict(zip(keys, r)) for r in rows]

    # -- key-value state (HelseID clients, replay caches, operator records) ------------------------

    def kv_put(self, namespace: str, key: str, value: dict, ttl_seconds: float | None = None) -> None:
        expires = time.time() + ttl_seconds if ttl_seconds is not None else None
        with self._conn() as conn, self._write(conn):
            self._exec(conn, "INSERT INTO kv VALUES (?,?,?,?) ON CONFLICT (namespace, key) DO UPDATE SET "
                             "value=excluded.value, expires_at=excluded.expires_at",
                       (namespace, key, json.dumps(value, ensure_ascii=False), expires))

    def kv_get(self, namespace: str, key: str) -> dict | None:
        with self._conn() as conn:
            row = self._exec(conn, "SELECT value, expires_at FROM kv WHERE namespace=? AND key=?",
                             (namespace, key)).fetchone()
        if row is None or (row[1] is not None and row[1] < time.time()):
            return None
        return json.loads(row[0])

    def kv_list(self, namespace: str) -> dict[str, dict]:
        current = time.time()
        with self._conn() as conn:
            rows = self._exec(conn, "SELECT key, value, expires_at FROM kv WHERE namespace=? ORDER BY key",
                              (namespace,)).fetchall()
        return {k: json.loads(v) for k, v, exp in rows if exp is None or exp >= current}

    def kv_delete(self, namespace: str, key: str) -> None:
        with self._conn() as conn, self._write(conn):
            self._exec(conn, "DELETE FROM kv WHERE namespace=? AND key=?", (namespace, key))

    def kv_add_if_absent(self, namespace: str, key: str, ttl_seconds: float) -> bool:
        """Atomically claim a key (a DPoP jti, an assertion jti); False if it was already seen."""
        current = time.time()
        with self._conn() as conn, self._write(conn):
            self._exec(conn, "DELETE FROM kv WHERE namespace=? AND key=? AND expires_at < ?", (namespace, key, current))
            cursor = self._exec(conn, "INSERT INTO kv VALUES (?,?,?,?) ON CONFLICT (namespace, key) DO NOTHING",
                                (namespace, key, "{}", current + ttl_seconds))
            return cursor.rowcount == 1

    def refresh_statistics(self) -> None:
        """After a bulk load: let the query planner see the data (PostgreSQL). SQLite keeps none:
        without statistics its planner takes the indexes these queries are written for, and
        statistics would have to be kept fresh as the data grows."""

    def close(self) -> None:
        self.flush_audit()
        with self._pool_lock:
            pool, self._pool = self._pool, []
        for conn in pool:
            conn.close()


class _Rows:
    """The rows one append writes, collected per table and written with one statement each.

    A resource written twice in one request keeps only its last index rows; the old index rows
    of a resource stored before are deleted first, so the index always describes the current
    version.
    """

    def __init__(self, tenant: str, seq: int, recorded: str, epoch: float) -> None:
        self.tenant, self.seq, self.recorded, self.epoch = tenant, seq, recorded, epoch
        self.history: list[tuple] = []
        self.resources: list[tuple] = []
        self.replaced: dict[int, None] = {}                       # rno whose old index rows go
        self.indexed: dict[tuple[str, str], tuple[Write, int, IndexRows | None]] = {}
        self.changes: list[tuple[dict, str | None]] = []         # (change without resource, its JSON)

    def add(self, write: Write, stored: Stored, text: str, replaces: bool) -> None:
        deleted = stored.deleted
        key = (self.tenant, write.rtype, write.rid, stored.version, stored.last_updated)
        self.history.append((*key, int(deleted), self.seq, stored.source, stored.patient, text))
        self.resources.append((*key, self.epoch, int(deleted), stored.source, stored.patient, text, stored.rno))
        self.index(write, stored.rno, None if deleted else write.index, replaces)
        self.changes.append(({"method": write.method, "type": write.rtype, "id": write.rid,
                              "version": stored.version, "patient": stored.patient}, None if deleted else text))

    def index(self, write: Write, rno: int, rows: IndexRows | None, replaces: bool) -> None:
        key = (write.rtype, write.rid)
        if replaces:
            self.replaced[rno] = None
        self.indexed.pop(key, None)                 # the last write of a resource wins
        self.indexed[key] = (write, rno, rows)

    def flush(self, storage: "SqlStorage", conn) -> None:
        storage._many(conn, storage._INSERT_HISTORY, self.history)
        storage._many(conn, storage._UPSERT_RESOURCE, self.resources)
        self.history, self.resources = [], []
        self.flush_index(storage, conn)

    def flush_index(self, storage: "SqlStorage", conn) -> None:
        tenant = self.tenant
        gone = [(tenant, rno) for rno in self.replaced]
        storage._many(conn, "DELETE FROM tokens WHERE tenant=? AND rno=?", gone)
        storage._many(conn, "DELETE FROM dates WHERE tenant=? AND rno=?", gone)
        storage._many(conn, "DELETE FROM blocks WHERE tenant=? AND consent=?",
                      [(tenant, f"Consent/{rid}") for (rtype, rid), (_, rno, _) in self.indexed.items()
                       if rtype == "Consent" and rno in self.replaced])
        tokens, dates, blocks = [], [], []
        for (rtype, rid), (write, rno, rows) in self.indexed.items():
            if rows is None:
                continue
            tokens += [(tenant, rtype, rid, *t, rows.patient, rno) for t in rows.tokens]
            dates += [(tenant, rtype, rid, *d, rno) for d in rows.dates]
            blocks += [(tenant, b.consent, b.patient, b.actor_kind, b.actor_value,
                        _dumps(list(b.classes)) if b.classes is not None else None,
                        _dumps(list(b.refs)) if b.refs is not None else None) for b in write.blocks]
        storage._many(conn, "INSERT INTO tokens (tenant, type, id, param, system, value, patient, rno) "
                            "VALUES (?,?,?,?,?,?,?,?)", tokens)
        storage._many(conn, "INSERT INTO dates (tenant, type, id, param, lo, hi, rno) VALUES (?,?,?,?,?,?,?)", dates)
        storage._many(conn, "INSERT INTO blocks VALUES (?,?,?,?,?,?,?)", blocks)
        self.replaced, self.indexed = {}, {}

    def event_body(self, message: dict | None = None) -> str:
        """The event's JSON, {"changes": [...]} (and the message it came from), reusing each
        resource's JSON text as stored (the same text as json.dumps of the whole would give,
        without serialising twice)."""
        parts = [_dumps(change)[:-1] + ',"resource":' + (text if text is not None else "null") + "}"
                 for change, text in self.changes]
        named = ',"message":' + _dumps(message) if message is not None else ""
        return '{"changes":[' + ",".join(parts) + "]" + named + "}"


class MessageProcessed(Exception):
    """A FHIR message whose key an event has already: it was stored before (a resend)."""

    def __init__(self, seq: int):
        super().__init__(f"the message was stored as event {seq}")
        self.seq = seq


class _NothingChanged(Exception):
    """Raised inside append to roll back the sequence number when no write changed anything."""

    def __init__(self, outcomes: list[Outcome]):
        super().__init__("nothing changed")
        self.outcomes = outcomes


def _audit_id(epoch: float) -> str:
    """32 hex digits like a uuid4, but starting with the time in milliseconds: new rows land at
    the end of the audit table's primary key instead of on a random page of it, which keeps the
    pages a write transaction dirties (and the WAL it writes) few."""
    return f"{int(epoch * 1000):012x}{uuid.uuid4().hex[:20]}"


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _stored(row) -> Stored:
    return Stored(json.loads(row[0]), row[1], row[2], bool(row[3]), row[4], row[5], *row[6:7])


def _event(row) -> dict:
    return {"seq": row[0], "recorded": row[1], "kind": row[2], "source": row[3], "organisation": row[4],
            **json.loads(row[5])}


def _tenant(row) -> dict:
    return {"id": row[0], "kind": row[1], "kommunenummer": row[2], "created": row[3], "seq": row[4],
            "faults": json.loads(row[5])}
