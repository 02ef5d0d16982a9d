"""Turn a database made by this version back into what an earlier version made, to test that
opening it migrates it (SQLite and PostgreSQL alike)."""
from __future__ import annotations

from mock_platform.storage import SqlStorage
from mock_platform.storage.base import INDEXES, _statements

# Version 2: tokens carry their patient; index rows name their resource by (type, id); events do
# not name the FHIR message they stored.
VERSION_2_INDEXES = """
CREATE INDEX tokens_lookup ON tokens (tenant, type, param, value);
CREATE INDEX tokens_owner ON tokens (tenant, type, id, param);
CREATE INDEX dates_owner ON dates (tenant, type, id, param);
CREATE INDEX tokens_patient ON tokens (tenant, patient, type, param, value);
"""


def make_version(store: SqlStorage, version: int) -> None:
    """Version 2: no row numbers (rno), no message on events, and the indexes of
    VERSION_2_INDEXES; version 1 also has no patient on tokens (nor its index)."""
    with store._conn() as conn, store._write(conn):
        for statement in _statements(INDEXES):
            store._exec(conn, "DROP INDEX " + statement.split(" IF NOT EXISTS ")[1].split()[0])
        for table in ("resources", "tokens", "dates"):
            store._exec(conn, f"ALTER TABLE {table} DROP COLUMN rno")
        store._exec(conn, "ALTER TABLE events DROP COLUMN message")
        for statement in _statements(VERSION_2_INDEXES):
            if version >= 2 or "patient" not in statement:
                store._exec(conn, statement)
        if version < 2:
            store._exec(conn, "ALTER TABLE tokens DROP COLUMN patient")
