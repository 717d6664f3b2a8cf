"""A throwaway PostgreSQL server for tests and benchmarks.

It runs the real server binaries (initdb, pg_ctl) in a private temporary directory, listening on
a free loopback port with its unix socket beside the data, so nothing touches a system cluster.

PostgreSQL refuses to run as root. When the caller is root (CI containers, this sandbox) the
server runs as the distribution's existing `postgres` account through `runuser`; no account is
created. Without such an account there is no safe way to start the server, and `start()` raises
`PostgresUnavailable` with the reason so callers can skip.

The cluster has the bootstrap superuser, reachable only over the unix socket with `trust` (the
test harness), and whatever roles the caller creates (owners, application roles), which must
authenticate over TCP with SCRAM, so a changed password is really enforced.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

POSTGRES_BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/local/bin"), Path("/usr/bin"))
SUPERUSER = "harness"


class PostgresUnavailable(RuntimeError):
    """The server binaries or an unprivileged account to run them are missing."""


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _find_binary(name: str) -> Path:
    for directory in POSTGRES_BIN_DIRS:
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise PostgresUnavailable(f"PostgreSQL binary {name!r} not found in {POSTGRES_BIN_DIRS} or PATH")


def _unprivileged_account() -> pwd.struct_passwd | None:
    """The account to run the server as, or None when the current user can run it directly."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable(
            "running as root and no 'postgres' system account exists; PostgreSQL refuses to run as "
            "root and the tests do not create accounts"
        ) from None


@dataclass
class TemporaryPostgres:
    """One PostgreSQL server with its data in a fresh temporary directory."""

    port: int = field(default_factory=free_loopback_port)
    root: Path = field(init=False)
    _account: pwd.struct_passwd | None = field(init=False, default=None)

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def start(self) -> "TemporaryPostgres":
        initdb, pg_ctl = _find_binary("initdb"), _find_binary("pg_ctl")
        self._account = _unprivileged_account()
        # Not pytest's tmp_path: its parents are private to root, and the server account must be
        # able to reach its own data directory.
        self.root = Path(tempfile.mkdtemp(prefix="fraud-api-pg-"))
        self.socket_dir.mkdir()
        if self._account is not None:
            for path in (self.root, self.socket_dir):
                os.chown(path, self._account.pw_uid, self._account.pw_gid)
        self._run(
            [
                str(initdb),
                "--pgdata", str(self.data_dir),
                "--username", SUPERUSER,
                "--auth-local", "trust",
                "--auth-host", "scram-sha-256",
                "--encoding", "UTF8",
                "--no-sync",
            ]
        )
        server_options = " ".join(
            [
                f"-p {self.port}",
                f"-k {self.socket_dir}",
                "-c listen_addresses=127.0.0.1",
                # Durability is irrelevant for a throwaway cluster; speed is not.
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=100",
                # As Aurora's parameter group does: the tests check no password reaches this log.
                "-c log_statement=ddl",
            ]
        )
        self._run(
            [
                str(pg_ctl), "start", "--wait", "--timeout", "30",
                "--pgdata", str(self.data_dir),
                "--log", str(self.root / "server.log"),
                "-o", server_options,
            ]
        )
        return self

    def stop(self) -> None:
        if not getattr(self, "root", None) or not self.data_dir.exists():
            return
        pg_ctl = _find_binary("pg_ctl")
        try:
            self._run([str(pg_ctl), "stop", "--wait", "--mode", "fast", "--pgdata", str(self.data_dir)])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def superuser_dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={dbname}"

    def tcp_dsn(self, user: str, password: str, dbname: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={user} password={password} dbname={dbname}"

    def log_text(self) -> str:
        try:
            return (self.root / "server.log").read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def _run(self, argv: list[str]) -> None:
        if self._account is not None:
            argv = ["runuser", "-u", self._account.pw_name, "--", *argv]
        completed = subprocess.run(argv, capture_output=True, text=True, cwd=self.root, timeout=60)
        if completed.returncode != 0:
            raise PostgresUnavailable(
                f"{' '.join(argv)} failed ({completed.returncode}): {completed.stderr.strip()}\n"
                f"{self.log_tail()}"
            )

    def __enter__(self) -> "TemporaryPostgres":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
