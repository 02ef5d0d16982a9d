"""Storage behind one small interface: SQLite by default, PostgreSQL for the hosted service."""
from __future__ import annotations

from mock_platform.storage.base import (Actor, AuditRow, Block, MessageProcessed, Outcome, Query, SqlStorage,
                                        Stored, Write, owned_by_r)
from mock_platform.storage.sqlite import SqliteStorage


def open_storage(database: str) -> SqlStorage:
    """A SQLite path (or ":memory:"), or a postgresql:// URL."""
    if database.startswith(("postgresql://", "postgres://")):
        from mock_platform.storage.postgres import PostgresStorage  # psycopg only when asked for
        return PostgresStorage(database)
    return SqliteStorage(database)


__all__ = ["Actor", "AuditRow", "Block", "MessageProcessed", "Outcome", "Query", "SqlStorage", "SqliteStorage",
           "Stored", "Write", "open_storage", "owned_by_r"]
