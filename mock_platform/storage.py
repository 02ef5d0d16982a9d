"""Storage behind one small interface: SQLite by default (embedded, nothing to install)."""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    last_updated TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (tenant, type, id)
);
CREATE TABLE IF NOT EXISTS identifiers (
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, system TEXT, value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS identifiers_lookup ON identifiers (tenant, type, value, system);
CREATE TABLE IF NOT EXISTS kv (
    namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_at REAL,
    PRIMARY KEY (namespace, key)
);
"""


@dataclass(frozen=True)
class Stored:
    resource: dict
    version: int
    last_updated: str


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SqliteStorage:
    """One connection per thread; every write runs in a transaction."""

    def __init__(self, path: str = ":memory:") -> None:
        # A shared in-memory database needs a URI so that every thread sees the same data.
        self._uri = "file:sandkasse?mode=memory&cache=shared" if path == ":memory:" else f"file:{path}"
        self._local = threading.local()
        self._keepalive = self._connect()
        self._keepalive.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._uri, uri=True, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    @property
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def put_many(self, tenant: str, resources: list[dict]) -> list[Stored]:
        """Store resources atomically: all of them or none."""
        conn = self._conn
        stored: list[Stored] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for resource in resources:
                rtype, rid = resource["resourceType"], resource["id"]
                row = conn.execute("SELECT version FROM resources WHERE tenant=? AND type=? AND id=?",
                                   (tenant, rtype, rid)).fetchone()
                version = (row[0] + 1) if row else 1
                updated = _now()
                body = dict(resource, meta={**resource.get("meta", {}),
                                            "versionId": str(version), "lastUpdated": updated})
                conn.execute("INSERT OR REPLACE INTO resources VALUES (?,?,?,?,?,?)",
                             (tenant, rtype, rid, version, updated, json.dumps(body, ensure_ascii=False)))
                conn.execute("DELETE FROM identifiers WHERE tenant=? AND type=? AND id=?", (tenant, rtype, rid))
                conn.executemany("INSERT INTO identifiers VALUES (?,?,?,?,?)",
                                 [(tenant, rtype, rid, i.get("system"), i["value"])
                                  for i in resource.get("identifier", []) if "value" in i])
                stored.append(Stored(body, version, updated))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return stored

    def read(self, tenant: str, rtype: str, rid: str) -> Stored | None:
        row = self._conn.execute("SELECT body, version, last_updated FROM resources "
                                 "WHERE tenant=? AND type=? AND id=?", (tenant, rtype, rid)).fetchone()
        return Stored(json.loads(row[0]), row[1], row[2]) if row else None

    def search_identifier(self, tenant: str, rtype: str, system: str | None, value: str) -> list[dict]:
        sql = ("SELECT r.body FROM identifiers i JOIN resources r USING (tenant, type, id) "
               "WHERE i.tenant=? AND i.type=? AND i.value=?")
        args: list = [tenant, rtype, value]
        if system is not None:
            sql += " AND i.system=?"
            args.append(system)
        return [json.loads(row[0]) for row in self._conn.execute(sql + " ORDER BY r.id", args)]

    # Small shared state for the other parts of the platform (HelseID clients, nonce and replay
    # caches, operator records). Kept in the database so several processes can share it.

    def kv_put(self, namespace: str, key: str, value: dict, ttl_seconds: float | None = None) -> None:
        expires = time.time() + ttl_seconds if ttl_seconds is not None else None
        self._conn.execute("INSERT OR REPLACE INTO kv VALUES (?,?,?,?)",
                           (namespace, key, json.dumps(value, ensure_ascii=False), expires))

    def kv_get(self, namespace: str, key: str) -> dict | None:
        row = self._conn.execute("SELECT value, expires_at FROM kv WHERE namespace=? AND key=?",
                                 (namespace, key)).fetchone()
        if row is None or (row[1] is not None and row[1] < time.time()):
            return None
        return json.loads(row[0])

    def kv_list(self, namespace: str) -> dict[str, dict]:
        now = time.time()
        rows = self._conn.execute("SELECT key, value, expires_at FROM kv WHERE namespace=? ORDER BY key",
                                  (namespace,)).fetchall()
        return {k: json.loads(v) for k, v, exp in rows if exp is None or exp >= now}

    def kv_delete(self, namespace: str, key: str) -> None:
        self._conn.execute("DELETE FROM kv WHERE namespace=? AND key=?", (namespace, key))

    def kv_add_if_absent(self, namespace: str, key: str, ttl_seconds: float) -> bool:
        """Atomically claim a key (a DPoP jti, an assertion jti); False if it was already seen."""
        conn = self._conn
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM kv WHERE namespace=? AND key=? AND expires_at < ?", (namespace, key, now))
            cursor = conn.execute("INSERT OR IGNORE INTO kv VALUES (?,?,?,?)",
                                  (namespace, key, "{}", now + ttl_seconds))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return cursor.rowcount == 1
