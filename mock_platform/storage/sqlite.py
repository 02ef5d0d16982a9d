"""SQLite: the embedded default (nothing to install).

Writers queue on locks that wake the next writer at once: a thread lock within a process and an
flock on `<database>-writelock` across processes (gunicorn workers). SQLite's own busy handler
backs off by sleeping up to 100 ms at a time, which made concurrent writers of two workers slow
and their p99 long; it stays as the fallback for processes that do not take the flock.

Checkpoints run in a background thread of each writing process, one process at a time (an flock
on `<database>-checkpointlock`), not in the commit of a request (SQLite's automatic checkpoint
copies the WAL into the database and fsyncs while the writer still holds the write lock). Most of
the copying happens without the write lock; when the WAL has grown past WAL_RESET_FRAMES the
checkpointer catches up, then takes the write lock for a RESTART checkpoint of the last few
frames, so that the next writer starts the WAL over and `journal_size_limit` truncates the file:
the WAL stays bounded even when writers never pause and readers never leave the database idle.
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
    CATCH_UP_PASSES = 2                # PASSIVE passes before the restart takes the write lock
    RESTART_WAIT_SECONDS = 0.1         # how long a restart waits for readers of the old WAL (under the write lock)
    WAL_LIMIT_BYTES = 32 * 1024 * 1024  # journal_size_limit: the WAL file is cut back to this on restart
    # Commits checkpoint by themselves only if the background checkpointer falls far behind.
    AUTOCHECKPOINT_PAGES = 4 * WAL_RESET_FRAMES

    def __init__(self, path: str = ":memory:") -> None:
        # Writers of this process queue on a lock instead of on SQLite's busy handler, whose
        # back-off sleeps would make concurrent writers slow; other processes queue on the flock.
        self._write_lock = threading.Lock()
        self._flock: tuple[int, int] | None = None            # (pid, fd) of the writer lock file
        self._checkpointer: tuple[int, threading.Thread] | None = None
        self._checkpoint_thread_lock = threading.Lock()
        self._checkpoint_fd: tuple[int, int] | None = None    # (pid, fd) of the checkpointer lock file
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
        fd = self._lock_file("_flock", "-writelock")
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _lock_file(self, held: str, suffix: str) -> int:
        """This process's fd of the lock file `<database><suffix>`, kept in the attribute `held`
        as (pid, fd): opened once per process, since an inherited fd shares its locks."""
        pid_fd = getattr(self, held)
        if pid_fd is None or pid_fd[0] != os.getpid():
            pid_fd = (os.getpid(), os.open(self._path + suffix, os.O_RDWR | os.O_CREAT, 0o644))
            setattr(self, held, pid_fd)
        return pid_fd[1]

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
                    result = self.checkpoint(conn, wait=False)
                except sqlite3.Error:  # the database is busy or going away: the next round retries
                    continue
                # Nothing new to copy, or another process's checkpointer has the WAL in hand.
                idle = idle + 1 if result is None or (result == last and result[0] == result[1]) else 0
                last = result
        finally:
            conn.close()

    def checkpoint(self, conn: sqlite3.Connection | None = None, wait: bool = True) -> tuple[int, int] | None:
        """Copy the WAL into the database; returns (frames in the WAL, frames copied), or None
        when another checkpointer is at work and `wait` is false (the background loop's case:
        one checkpointer at a time across processes, since a restart would wait for the other's
        copying under the write lock).

        The bulk is copied without the write lock (PASSIVE). A WAL copied whole still does not
        start over by itself under steady writes: only a writer that begins while nothing is
        left to copy and no reader is on the WAL restarts it, and with writers back to back one
        always begins first. So past WAL_RESET_FRAMES the checkpointer takes the write lock and
        checkpoints with RESTART: it copies the few frames written meanwhile and waits (at most
        RESTART_WAIT_SECONDS) for the readers still on the WAL; the next writer starts it over."""
        own = conn is None
        conn = conn or self._connect()
        try:
            with self._checkpoint_lock(wait) as mine:
                if not mine:
                    return None
                _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if frames >= self.WAL_RESET_FRAMES:
                    # Catch up first, without the lock: each pass copies what was written during
                    # the last one, so what is left to copy under the lock is a few ms' worth.
                    for _ in range(self.CATCH_UP_PASSES):
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    with self._write_lock, self._process_lock():
                        frames, copied = self._restart(conn)
                return frames, copied
        finally:
            if own:
                conn.close()

    def _restart(self, conn: sqlite3.Connection) -> tuple[int, int]:
        # Retried here every half millisecond rather than by SQLite's busy handler, whose sleeps
        # (1, 2, 5, 10 ms, ...) would hold the write lock far longer than the readers take.
        deadline = time.monotonic() + self.RESTART_WAIT_SECONDS
        conn.execute("PRAGMA busy_timeout=0")
        try:
            while True:
                busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
                if not busy or time.monotonic() >= deadline:
                    return frames, copied
                time.sleep(0.0005)
        finally:
            conn.execute("PRAGMA busy_timeout=30000")

    @contextmanager
    def _checkpoint_lock(self, wait: bool) -> Iterator[bool]:
        """One checkpointer at a time: a thread lock in this process, an flock on
        `<database>-checkpointlock` across processes. Yields whether it was taken."""
        if not self._checkpoint_thread_lock.acquire(blocking=wait):
            yield False
            return
        try:
            if self._stopped.is_set():        # closed: its lock files are closed too
                yield False
                return
            if self._path is None:            # an in-memory database has no other process
                yield True
                return
            fd = self._lock_file("_checkpoint_fd", "-checkpointlock")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._checkpoint_thread_lock.release()

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
        # A checkpoint under way (it may hold both lock files) finishes before they are closed.
        with self._checkpoint_thread_lock:
            for name in ("_flock", "_checkpoint_fd"):
                held = getattr(self, name)
                if held is not None and held[0] == os.getpid():
                    os.close(held[1])
                    setattr(self, name, None)
