"""SQLite: the embedded default (nothing to install).

Writers queue on locks that wake the next writer at once: a thread lock within a process and an
flock on `<database>-writelock` across processes (gunicorn workers). SQLite's own busy handler
backs off by sleeping up to 100 ms at a time, which made concurrent writers of two workers slow
and their p99 long; it stays as the fallback for processes that do not take the flock.

Checkpoints run in a background thread of each writing process, not in the commit of a request
(SQLite's automatic checkpoint copies the WAL into the database and fsyncs while the writer still
holds the write lock). Most of the copying happens without the write lock; when the WAL has grown
past WAL_RESET_FRAMES the checkpointer takes the write lock briefly to finish, so that the next
writer starts the WAL over and `journal_size_limit` truncates the file: the WAL stays bounded
even when readers never leave the database idle.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from mock_platform.storage.base import SqlStorage


class SqliteStorage(SqlStorage):
    """Pooled connections in WAL mode; a write transaction takes the write lock up front."""

    CHECKPOINT_SECONDS = 0.25          # how often the checkpointer copies the WAL into the database
    WAL_RESET_FRAMES = 4096            # WAL frames (pages, 16 MB at 4 KB) after which the WAL restarts
    WAL_LIMIT_BYTES = 32 * 1024 * 1024  # journal_size_limit: the WAL file is cut back to this on restart
    # Commits checkpoint by themselves only if the background checkpointer falls far behind.
    AUTOCHECKPOINT_PAGES = 4 * WAL_RESET_FRAMES

    def __init__(self, path: str = ":memory:") -> None:
        # Writers of this process queue on a lock instead of on SQLite's busy handler, whose
        # back-off sleeps would make concurrent writers slow; other processes queue on the flock.
        self._write_lock = threading.Lock()
        self._flock: tuple[int, int] | None = None            # (pid, fd) of the writer lock file
        self._checkpointer: tuple[int, threading.Thread] | None = None
        self._stopped = threading.Event()
        # An in-memory database is shared by all threads of this storage through a named
        # shared-cache URI; the name is unique so two in-memory platforms never share data.
        if path == ":memory:":
            self._uri = f"file:sandkasse-{uuid.uuid4().hex}?mode=memory&cache=shared"
            self._path: str | None = None
        else:
            self._uri = f"file:{path}"
            self._path = path
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
        if self._path is not None:
            conn.execute(f"PRAGMA wal_autocheckpoint={self.AUTOCHECKPOINT_PAGES}")
            conn.execute(f"PRAGMA journal_size_limit={self.WAL_LIMIT_BYTES}")
        return conn

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        with self._write(conn):
            self._create_schema(conn)

    @contextmanager
    def _write(self, conn: sqlite3.Connection) -> Iterator[None]:
        with self._write_lock, self._process_lock():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        self._ensure_checkpointer()

    @contextmanager
    def _process_lock(self) -> Iterator[None]:
        """The cross-process writer lock (a file database only). flock waits in the kernel and
        wakes the next writer as soon as the lock is free; the fd is per process (an inherited
        fd would share its lock with the parent)."""
        if self._path is None:
            yield
            return
        if self._flock is None or self._flock[0] != os.getpid():
            self._flock = (os.getpid(), os.open(self._path + "-writelock", os.O_RDWR | os.O_CREAT, 0o644))
        fd = self._flock[1]
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    # -- checkpoints ----------------------------------------------------------------------------

    def _ensure_checkpointer(self) -> None:
        if self._path is None or self._stopped.is_set():
            return
        if self._checkpointer is not None and self._checkpointer[0] == os.getpid() \
                and self._checkpointer[1].is_alive():
            return
        thread = threading.Thread(target=self._checkpoint_loop, name="sandkasse-checkpoint", daemon=True)
        self._checkpointer = (os.getpid(), thread)
        thread.start()

    IDLE_ROUNDS = 20                   # the checkpointer stops after this many rounds with nothing to copy

    def _checkpoint_loop(self) -> None:
        # Stops when the WAL has been idle for a while (the next write starts it again), so an
        # idle platform, or a test's storage that is never closed, keeps no thread waking up.
        conn = self._connect()
        idle, last = 0, None
        try:
            while idle < self.IDLE_ROUNDS and not self._stopped.wait(self.CHECKPOINT_SECONDS):
                try:
                    frames, copied = self.checkpoint(conn)
                except sqlite3.Error:  # the database is busy or going away: the next round retries
                    continue
                idle = idle + 1 if (frames, copied) == last and frames == copied else 0
                last = (frames, copied)
        finally:
            conn.close()

    def checkpoint(self, conn: sqlite3.Connection | None = None) -> tuple[int, int]:
        """Copy the WAL into the database; returns (frames in the WAL, frames copied). Past
        WAL_RESET_FRAMES the rest is copied under the write lock, so the WAL can start over."""
        own = conn is None
        conn = conn or self._connect()
        try:
            _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if frames >= self.WAL_RESET_FRAMES and copied < frames:
                with self._write_lock, self._process_lock():
                    _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            return frames, copied
        finally:
            if own:
                conn.close()

    def wal_bytes(self) -> int:
        """The size of the WAL file now (0 for an in-memory database)."""
        if self._path is None:
            return 0
        try:
            return os.path.getsize(self._path + "-wal")
        except OSError:
            return 0

    def close(self) -> None:
        self._stopped.set()
        super().close()
        if self._flock is not None and self._flock[0] == os.getpid():
            os.close(self._flock[1])
            self._flock = None
