"""SQLite: the embedded default (nothing to install)."""
from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from mock_platform.storage.base import SCHEMA, SqlStorage


class SqliteStorage(SqlStorage):
    """Pooled connections in WAL mode; a write transaction takes the write lock up front."""

    def __init__(self, path: str = ":memory:") -> None:
        # Writers of this process queue on a lock instead of on SQLite's busy handler, whose
        # back-off sleeps would make concurrent writers slow; other processes still use the latter.
        self._write_lock = threading.Lock()
        # An in-memory database is shared by all threads of this storage through a named
        # shared-cache URI; the name is unique so two in-memory platforms never share data.
        if path == ":memory:":
            self._uri = f"file:sandkasse-{uuid.uuid4().hex}?mode=memory&cache=shared"
        else:
            self._uri = f"file:{path}"
        self._keepalive = self._connect()  # an in-memory database lives as long as one connection
        super().__init__()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._uri, uri=True, check_same_thread=False, isolation_level=None,
                               timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable against process crashes in WAL mode (only an OS crash can lose the
        # last commits), and saves an fsync per commit.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        conn.executescript(SCHEMA)

    @contextmanager
    def _write(self, conn: sqlite3.Connection) -> Iterator[None]:
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
