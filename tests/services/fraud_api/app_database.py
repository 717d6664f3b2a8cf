"""Application databases on the test PostgreSQL server: each with its own login role."""

from __future__ import annotations

import itertools
import json
import secrets
from dataclasses import dataclass

import psycopg
from psycopg import sql

from fraud_api.settings import Settings
from tests.services.fraud_api.postgres_server import TemporaryPostgres

SIGNING_KEY = "test-signing-key"
_database_numbers = itertools.count(1)


@dataclass(frozen=True)
class AppDatabase:
    """A database owned by its own login role, reachable over TCP with a password."""

    server: TemporaryPostgres
    name: str
    user: str
    password: str

    def env(self, **overrides: str) -> dict[str, str]:
        """The environment ECS would give a task pointed at this database."""
        env = {
            "HOST": "127.0.0.1",
            "PORT": "8080",
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(self.server.port),
            "DB_NAME": self.name,
            "DB_SSLMODE": "disable",  # the throwaway server has no certificate
            "DB_CREDENTIALS": json.dumps({"username": self.user, "password": self.password, "engine": "postgres"}),
            "DB_POOL_MIN_SIZE": "1",
            "DB_POOL_MAX_SIZE": "4",
            "API_CONFIG": json.dumps({"signing_key": SIGNING_KEY, "scoring": {"review_threshold": 0.5}}),
            "AWS_REGION": "us-east-1",
        }
        env.update(overrides)
        return env

    def settings(self, **overrides: str) -> Settings:
        return Settings.from_env(self.env(**overrides))

    def admin(self) -> psycopg.Connection:
        """A superuser connection to this database (over the unix socket)."""
        return psycopg.connect(self.server.superuser_dsn(self.name), autocommit=True)

    def count_transactions(self) -> int:
        with self.admin() as conn:
            row = conn.execute("SELECT count(*) FROM transactions").fetchone()
        assert row is not None
        return int(row[0])

    def set_password(self, password: str) -> None:
        """Rotate the role's password and end its sessions, as a rotation plus failover would."""
        with self.admin() as conn:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(self.user), sql.Literal(password)))
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (self.user,))


def create_database(server: TemporaryPostgres) -> AppDatabase:
    number = next(_database_numbers)
    database = AppDatabase(
        server=server, name=f"fraud_{number}", user=f"fraud_app_{number}", password=secrets.token_urlsafe(16)
    )
    with psycopg.connect(server.superuser_dsn(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(database.user), sql.Literal(database.password)
            )
        )
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database.name), sql.Identifier(database.user)))
    return database
