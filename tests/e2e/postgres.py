"""A throwaway PostgreSQL cluster on 127.0.0.1, created in a temporary folder and removed after.

PostgreSQL refuses to run as root, so under root the cluster belongs to the `postgres` system
user (which Debian's package creates) and every server command runs through `runuser`.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

SERVER_OWNER = "postgres"


def free_port() -> int:
    """A port nothing listens on right now at 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says what to install or fix."""


def find_bin_dir() -> Path:
    """The folder holding initdb and pg_ctl: Debian's newest /usr/lib/postgresql/N/bin, or PATH."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: run `make test`, which installs "
        "them with apt-get, or install the `postgresql` package"
    )


@dataclass(frozen=True)
class Database:
    """Where a loader and the tests reach one database, over TCP with a password."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.dbname,
            autocommit=True,
        )


class ThrowawayCluster:
    """initdb + pg_ctl in a temporary folder; `stop()` shuts it down and deletes the folder."""

    def __init__(self) -> None:
        self.bin_dir = find_bin_dir()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="tap-auth0-userlogs-pg-"))
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "socket"
        self._as_owner: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam(SERVER_OWNER)
            except KeyError as exc:
                raise PostgresUnavailable(
                    f"running as root, but there is no {SERVER_OWNER!r} user to own the cluster"
                ) from exc
            self.socket_dir.mkdir()
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            os.chown(self.socket_dir, owner.pw_uid, owner.pw_gid)
            self._as_owner = ["runuser", "-u", SERVER_OWNER, "--"]
        else:
            self.socket_dir.mkdir()

    def _run(self, *args: str) -> None:
        cmd = [*self._as_owner, *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise PostgresUnavailable(
                f"{' '.join(args[:1])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )

    def start(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"),
            "--pgdata", str(self.data_dir),
            "--username", "postgres",
            "--auth-local", "trust",
            "--auth-host", "scram-sha-256",
            "--encoding", "UTF8",
            "--no-sync",
        )  # fmt: skip
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "--pgdata", str(self.data_dir),
            "--log", str(self.root / "server.log"),
            "--options", options,
            "--wait",
            "start",
        )  # fmt: skip

    def create_database(self, user: str, password: str, dbname: str) -> Database:
        """A login role with a password, and a database it owns."""
        with self._superuser() as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(user), sql.Literal(password)
                )
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(dbname), sql.Identifier(user)
                )
            )
        return Database("127.0.0.1", self.port, user, password, dbname)

    def drop_database(self, dbname: str, owner: str) -> None:
        """Remove the database and the role that owns it."""
        with self._superuser() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
            )
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(owner)))

    def _superuser(self) -> psycopg.Connection:
        # Over the unix socket, where initdb set up trust for the bootstrap superuser.
        deadline = time.monotonic() + 30
        while True:
            try:
                return psycopg.connect(
                    host=str(self.socket_dir),
                    port=self.port,
                    user="postgres",
                    dbname="postgres",
                    autocommit=True,
                )
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run(
                str(self.bin_dir / "pg_ctl"), "--pgdata", str(self.data_dir),
                "--mode", "fast", "--wait", "stop",
            )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)
