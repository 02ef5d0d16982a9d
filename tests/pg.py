"""A scratch PostgreSQL cluster for tests: initdb in a fresh directory, start on a free port with
its socket in that directory, stop and remove at the end. About a second; no system service.

initdb refuses to run as root, so as root the cluster belongs to the `postgres` user (runuser).
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

PG_BIN_CANDIDATES = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")


def pg_bin() -> Path:
    for candidate in PG_BIN_CANDIDATES:
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found; install the Debian package "
                       "postgresql (scripts/system-deps.sh does).")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    directory: Path
    port: int
    as_user: list[str]

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database_dsn(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def create_database(self) -> str:
        """A new empty database; its DSN."""
        import psycopg
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.database_dsn(name)

    def create_schema(self) -> str:
        """A new empty schema in the `postgres` database (much cheaper than a database); a DSN whose
        search_path puts everything a client creates in that schema."""
        import psycopg
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return f"{self.dsn}?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(pg_bin() / "pg_ctl"), "-D", str(self.directory / "data"), "-m",
                        "immediate", "-w", "stop"], capture_output=True, check=False)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_cluster(durable: bool = False) -> Cluster:
    """`durable`: PostgreSQL's own defaults for fsync and commits (benchmarks of the hosted mode);
    tests trade them for speed, since a scratch cluster is thrown away."""
    directory = Path(tempfile.mkdtemp(prefix="sandkasse-pg-"))   # directly in /tmp: postgres can reach it
    as_user: list[str] = []
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(directory, entry.pw_uid, entry.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = directory / "data"
    bin_dir = pg_bin()
    subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                    "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], check=True, capture_output=True)
    for attempt in range(5):
        port = _free_port()
        options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        started = subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
                                  "-l", str(directory / "log"), "-w", "-t", "30", "start"], capture_output=True)
        if started.returncode == 0:
            return Cluster(directory, port, as_user)
    log = (directory / "log").read_text(errors="replace") if (directory / "log").exists() else ""
    shutil.rmtree(directory, ignore_errors=True)
    raise RuntimeError(f"PostgreSQL did not start: {started.stderr.decode(errors='replace')} {log[-2000:]}")
