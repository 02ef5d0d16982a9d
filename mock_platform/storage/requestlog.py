"""The request log: what arrived at a tenant's FHIR API, as the suite's producer and consumer
checks need to see it (GET /admin/tenants/<t>/requests). Kept apart from the hendelseslager:
it records every request, refused ones included, and is never a source of patient data.

This module holds its table and the storage methods; SqlStorage mixes them in.

Recording must cost a read request next to nothing, so rows are buffered in memory and written
by a background thread, many per transaction (like the audit's batched rows); a query of the
log flushes first, so the operator sees what just happened in this process. The sequence is
per tenant and monotonic: it is taken when a batch is written (a counter row per tenant, so
several processes never hand out the same number) and it survives a reset of the log, so a
reader's `since` cursor stays valid. Only the newest `request_log_keep` rows per tenant are kept.
"""
from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass

from mock_platform.storage.shutdown import flush_at_exit

REQUEST_LOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS request_log (
    tenant TEXT NOT NULL, seq BIGINT NOT NULL, received DOUBLE PRECISION NOT NULL, method TEXT NOT NULL,
    url TEXT NOT NULL, path TEXT NOT NULL, headers TEXT NOT NULL, body TEXT, status INTEGER NOT NULL,
    response TEXT, truncated TEXT NOT NULL,
    PRIMARY KEY (tenant, seq)
);
CREATE TABLE IF NOT EXISTS request_log_seq (
    tenant TEXT PRIMARY KEY, seq BIGINT NOT NULL
);
"""

_INIT_LOCK = threading.Lock()


@dataclass(frozen=True)
class RequestRecord:
    """One request as it is recorded (texts already capped by the caller)."""
    tenant: str
    received: float                 # seconds since the epoch, when it arrived
    method: str
    url: str                        # absolute, with the query
    path: str                       # relative to the tenant's FHIR base ("" for the intake)
    headers: dict[str, str]         # the identity and content headers, lower-case names
    other_headers: tuple[str, ...]  # the names of the other headers (values are not kept)
    body: str | None
    status: int
    response: str | None
    truncated: tuple[str, ...] = ()  # "body" and/or "response" when cut at the cap


class _Buffer:
    def __init__(self) -> None:
        self.rows: list[RequestRecord] = []
        self.lock = threading.Lock()
        self.flush_lock = threading.Lock()
        self.flusher: tuple[int, threading.Thread] | None = None


class RequestLogMixin:
    """Storage methods of the request log (used through SqlStorage)."""

    REQUEST_LOG_FLUSH_SECONDS = 0.05
    REQUEST_LOG_IDLE_ROUNDS = 40     # the flusher stops after this many empty rounds (2 s)
    REQUEST_LOG_MAX_BUFFERED = 50_000  # if the database is unreachable, the oldest rows go first
    request_log_keep = 10_000        # rows kept per tenant; the app sets it from its config

    def _request_log_buffer(self) -> _Buffer:
        buffer = self.__dict__.get("_reqlog_buffer")
        if buffer is None:
            with _INIT_LOCK:
                buffer = self.__dict__.get("_reqlog_buffer")
                if buffer is None:
                    buffer = self.__dict__["_reqlog_buffer"] = _Buffer()
                    flush_at_exit(self.flush_request_log, "request log rows")
        return buffer

    def log_request(self, record: RequestRecord) -> None:
        """Buffer one request; a background thread writes it within REQUEST_LOG_FLUSH_SECONDS."""
        buffer = self._request_log_buffer()
        with buffer.lock:
            buffer.rows.append(record)
            if len(buffer.rows) > self.REQUEST_LOG_MAX_BUFFERED:
                del buffer.rows[: len(buffer.rows) - self.REQUEST_LOG_MAX_BUFFERED]
            if buffer.flusher is None or buffer.flusher[0] != os.getpid() or not buffer.flusher[1].is_alive():
                thread = threading.Thread(target=self._request_log_loop, name="sandkasse-request-log", daemon=True)
                buffer.flusher = (os.getpid(), thread)
                thread.start()

    def _request_log_loop(self) -> None:
        buffer, idle = self._request_log_buffer(), 0
        while True:
            time.sleep(self.REQUEST_LOG_FLUSH_SECONDS)
            with buffer.lock:
                idle = 0 if buffer.rows else idle + 1
                if idle >= self.REQUEST_LOG_IDLE_ROUNDS:
                    # Nothing to do for a while: stop; the next request starts a new flusher.
                    # (Decided under the lock log_request takes, so no row is left unflushed.)
                    if buffer.flusher is not None and buffer.flusher[1] is threading.current_thread():
                        buffer.flusher = None
                    return
            try:
                self.flush_request_log()
            except Exception:  # noqa: BLE001 - the rows stay buffered and the next round retries
                pass

    def flush_request_log(self) -> None:
        buffer = self._request_log_buffer()
        # One flush at a time: a reader that flushes must also wait for rows a concurrent flush
        # has taken from the buffer but not yet committed.
        with buffer.flush_lock:
            with buffer.lock:
                pending, buffer.rows = buffer.rows, []
            if not pending:
                return
            by_tenant: dict[str, list[RequestRecord]] = {}
            for record in pending:
                by_tenant.setdefault(record.tenant, []).append(record)
            try:
                with self._conn() as conn, self._write(conn):
                    for tenant, records in by_tenant.items():
                        self._write_request_rows(conn, tenant, records)
            except BaseException:
                with buffer.lock:
                    buffer.rows[:0] = pending
                raise

    def _write_request_rows(self, conn, tenant: str, records: list[RequestRecord]) -> None:
        # Taking the numbers locks the tenant's counter row until commit: gap-free and ordered
        # across processes.
        last = self._exec(conn, "INSERT INTO request_log_seq (tenant, seq) VALUES (?, ?) ON CONFLICT (tenant) "
                                "DO UPDATE SET seq = request_log_seq.seq + excluded.seq RETURNING seq",
                          (tenant, len(records))).fetchone()[0]
        first = last - len(records) + 1
        self._many(conn, "INSERT INTO request_log VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                   [(tenant, first + i, r.received, r.method, r.url, r.path,
                     json.dumps({"values": r.headers, "others": list(r.other_headers)}, ensure_ascii=False),
                     r.body, r.status, r.response, ",".join(r.truncated)) for i, r in enumerate(records)])
        if last > self.request_log_keep:
            self._exec(conn, "DELETE FROM request_log WHERE tenant=? AND seq <= ?",
                       (tenant, last - self.request_log_keep))

    def request_log(self, tenant: str, since: int, limit: int) -> tuple[int, list[dict], bool]:
        """(the tenant's latest sequence number, up to `limit` requests after `since`, more left)."""
        self.flush_request_log()
        with self._conn() as conn:
            head = self._exec(conn, "SELECT seq FROM request_log_seq WHERE tenant=?", (tenant,)).fetchone()
            rows = self._exec(conn, "SELECT seq, received, method, url, path, headers, body, status, response, "
                                    "truncated FROM request_log WHERE tenant=? AND seq>? ORDER BY seq LIMIT ?",
                              (tenant, since, limit + 1)).fetchall()
        return (head[0] if head else 0), [_entry(r) for r in rows[:limit]], len(rows) > limit

    def clear_request_log(self, tenant: str) -> None:
        """Forget the tenant's requests (a reset); the sequence goes on from where it was."""
        self.flush_request_log()
        with self._conn() as conn, self._write(conn):
            self._exec(conn, "DELETE FROM request_log WHERE tenant=?", (tenant,))


def _entry(row) -> dict:
    seq, received, method, url, path, headers, body, status, response, truncated = row
    cut = [t for t in truncated.split(",") if t]
    parsed = json.loads(headers)
    return {"seq": seq, "time": received, "method": method, "url": url, "path": path,
            "headers": parsed["values"], "other_headers": parsed["others"],
            "body": _content(body, "body" in cut), "status": status,
            "response": _content(response, "response" in cut), "truncated": cut}


def _content(text: str | None, truncated: bool) -> object:
    """JSON if it is JSON (a cut-off body stays text: it no longer is)."""
    if not text:
        return None
    if not truncated and text[:1] in "{[":
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text
