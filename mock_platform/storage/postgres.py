"""PostgreSQL: the hosted multi-vendor service (several platform processes share one database)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from mock_platform.storage.base import SqlStorage


class PostgresStorage(SqlStorage):
    placeholder = "%s"

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        super().__init__()

    def _connect(self) -> psycopg.Connection:
        # Autocommit for single statements; write transactions are opened explicitly.
        return psycopg.connect(self._dsn, autocommit=True)

    def _init_schema(self, conn: psycopg.Connection) -> None:
        # Several processes may start at once against a fresh database: serialise the DDL.
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(424242)")
            self._create_schema(conn)

    @contextmanager
    def _write(self, conn: psycopg.Connection) -> Iterator[None]:
        with conn.transaction():
            yield

    def refresh_statistics(self) -> None:
        # Until autovacuum gets to a freshly loaded table (a minute or more), the planner has no
        # statistics and drives a patient's search by scanning every resource of the type.
        with self._conn() as conn:
            conn.execute("ANALYZE tenants, events, resources, history, tokens, dates, blocks, audit")

    def _discard_if_broken(self, conn: psycopg.Connection) -> None:
        if conn.closed or conn.broken:
            return
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
