"""SQLite specifics: a database of the previous version opens and is migrated; the WAL stays
bounded; writers of two processes (two storages on one file) queue on the file lock."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from werkzeug.datastructures import MultiDict

from mock_platform import search
from mock_platform.searchparams import index
from mock_platform.storage import Actor, SqliteStorage, Write
from tests.mock_platform.fhir import observation, patient
from tests.mock_platform.old_layouts import make_version

ACTOR = Actor("epj-a", "974600007")


def _allow(write, current) -> None:
    pass


def _put(resource: dict) -> Write:
    return Write("PUT", resource["resourceType"], resource["id"], resource, index(resource))


def _find(store, query: str) -> list[str]:
    parsed = search.parse("0301", "Observation", MultiDict([tuple(kv.split("=", 1)) for kv in query.split("&")]))
    return sorted(s.resource["id"] for s in store.search(parsed.query)[1])


def _count(store, query: str) -> int:
    parsed = search.parse("0301", "Observation", MultiDict([tuple(kv.split("=", 1)) for kv in query.split("&")]))
    return store.count(parsed.query)


def _seeded(path: Path) -> SqliteStorage:
    store = SqliteStorage(str(path))
    store.create_tenant("0301", "municipality", "0301")
    store.append("0301", "transaction", [_put(patient("p1", 1)), _put(patient("p2", 2))], ACTOR, _allow)
    store.append("0301", "transaction", [_put(observation(f"o{i}", "p1" if i % 2 else "p2")) for i in range(6)],
                 ACTOR, _allow)
    return store


def test_a_database_of_the_previous_version_is_migrated_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _seeded(path).close()
    # Make it what version 1 wrote: tokens without the patient column, index rows by (type, id).
    old = SqliteStorage(str(path))
    make_version(old, 1)
    old.close()
    reopened = SqliteStorage(str(path))
    try:
        with reopened._conn() as conn:
            assert conn.execute("SELECT COUNT(*) FROM tokens WHERE param='code' AND patient IS NULL").fetchone()[0] == 0
            indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert {"tokens_search", "tokens_by_resource", "dates_by_resource"} <= indexes
        assert not indexes & {"tokens_lookup", "tokens_patient", "tokens_owner", "dates_owner"}
        assert _find(reopened, "patient=p1&code=8867-4") == ["o1", "o3", "o5"]
        reopened.append("0301", "transaction", [_put(observation("o9", "p1"))], ACTOR, _allow)
        assert _find(reopened, "patient=p1&code=8867-4") == ["o1", "o3", "o5", "o9"]
    finally:
        reopened.close()
    SqliteStorage(str(path)).close()        # opening a migrated database again changes nothing


def test_the_wal_is_cut_back_after_checkpoints_even_while_a_reader_is_busy(tmp_path: Path) -> None:
    store = _seeded(tmp_path / "wal.sqlite3")
    store.WAL_RESET_FRAMES = 64             # small, so that a few writes pass it
    try:
        reader = sqlite3.connect(tmp_path / "wal.sqlite3")
        for round_ in range(30):
            # A reader that holds a snapshot across writes blocks a full checkpoint only while it holds it.
            reader.execute("BEGIN")
            reader.execute("SELECT COUNT(*) FROM resources").fetchone()
            store.append("0301", "transaction", [_put(observation(f"w{round_}-{i}", "p1")) for i in range(8)],
                         ACTOR, _allow)
            reader.execute("COMMIT")
            store.checkpoint()
        frames, copied = store.checkpoint()
        assert frames == copied                 # everything copied into the database
        store.append("0301", "transaction", [_put(observation("last", "p1"))], ACTOR, _allow)
        assert store.wal_bytes() <= 2 * 1024 * 1024
        assert _count(store, "patient=p1&code=8867-4") == 3 + 30 * 8 + 1
    finally:
        store.close()


def test_writers_of_two_storages_on_one_file_all_land_in_sequence(tmp_path: Path) -> None:
    path = tmp_path / "two.sqlite3"
    _seeded(path).close()
    stores = [SqliteStorage(str(path)), SqliteStorage(str(path))]
    errors: list[BaseException] = []

    def write(store: SqliteStorage, name: str) -> None:
        try:
            for i in range(25):
                store.append("0301", "transaction", [_put(observation(f"{name}-{i}", "p2"))], ACTOR, _allow)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(stores[n % 2], f"t{n}")) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        seqs = [e["seq"] for e in stores[0].events("0301", 0, 1000)]
        assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 2 + 100
        assert _count(stores[1], "patient=p2&code=8867-4") == 3 + 100
    finally:
        for store in stores:
            store.close()


def test_the_checkpointer_stops_when_idle_and_the_next_write_starts_it(tmp_path: Path) -> None:
    store = _seeded(tmp_path / "idle.sqlite3")
    store.CHECKPOINT_SECONDS, store.IDLE_ROUNDS = 0.01, 3
    try:
        store.append("0301", "transaction", [_put(observation("a", "p1"))], ACTOR, _allow)
        thread = store._checkpointer[1]
        thread.join(timeout=10)
        assert not thread.is_alive()
        assert store.checkpoint()[0] == store.checkpoint()[1]      # it left nothing uncopied
        store.append("0301", "transaction", [_put(observation("b", "p1"))], ACTOR, _allow)
        assert store._checkpointer[1] is not thread and store._checkpointer[1].is_alive()
    finally:
        store.close()


def test_the_wal_starts_over_while_writers_never_pause(tmp_path: Path) -> None:
    """Under steady writes a passive checkpoint may copy the whole WAL and the WAL still not start
    over (a writer begins before the copy is done, and appends); the checkpointer's restart under
    the write lock bounds it all the same."""
    store = _seeded(tmp_path / "steady.sqlite3")
    store.WAL_RESET_FRAMES = 64
    store.CHECKPOINT_SECONDS = 3600           # only this test's checkpoints
    appends = 300

    def write(name: str) -> None:
        for i in range(appends // 2):
            store.append("0301", "transaction", [_put(observation(f"{name}-{i}-{k}", "p1")) for k in range(4)],
                         ACTOR, _allow)

    writers = [threading.Thread(target=write, args=(f"w{n}",)) for n in range(2)]
    for thread in writers:
        thread.start()
    seen: list[int] = []
    try:
        while any(thread.is_alive() for thread in writers):
            seen.append(store.checkpoint()[0])
        for thread in writers:
            thread.join()
        # The run writes over 9,000 frames; without restarts the WAL holds nearly all of them.
        assert max(seen) < 4_000
        assert sum(1 for before, after in zip(seen, seen[1:]) if after < before) >= 5     # it started over
        assert _count(store, "patient=p1&code=8867-4") == 3 + appends * 4
    finally:
        store.close()
