"""Application databases on the test PostgreSQL server, set up the way AWS has them.

Each database is owned by its own owner role (the RDS master user's part: it may create roles),
migrated by the real migration step (`fraud_api.migrate`), which creates the application role
the service then serves with: SELECT and INSERT on its tables, nothing else. Both log in over
TCP with a password (IAM authentication needs RDS).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from fraud_api.migrate import MigrationOutcome, migrate
from fraud_api.settings import MigrationSettings, Settings
from tests.services.fraud_api.postgres_server import TemporaryPostgres

SIGNING_KEY = "test-signing-key"
_database_numbers = itertools.count(1)


@dataclass(frozen=True)
class AppDatabase:
    server: TemporaryPostgres
    name: str
    owner: str
    owner_password: str = field(repr=False)
    # The application role (created by the migration step).
    user: str = ""
    password: str = field(default="", repr=False)

    def env(self, **overrides: str) -> dict[str, str]:
        """The environment ECS would give a serving task pointed at this database."""
        env = {
            "HOST": "127.0.0.1",
            "PORT": "8080",
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(self.server.port),
            "DB_NAME": self.name,
            "DB_SSLMODE": "disable",  # the throwaway server has no certificate
            "DB_AUTH": "password",
            "DB_USER": self.user,
            "DB_CREDENTIALS": json.dumps({"username": self.user, "password": self.password, "engine": "postgres"}),
            "DB_POOL_MIN_SIZE": "1",
            "DB_POOL_MAX_SIZE": "4",
            "API_CONFIG": json.dumps({"signing_key": SIGNING_KEY, "scoring": {"review_threshold": 0.5}}),
            "AWS_REGION": "us-east-1",
        }
        env.update(overrides)
        return env

    def migration_env(self, **overrides: str) -> dict[str, str]:
        """The migration step's environment: the serving one plus the owner's login."""
        env = self.env(DB_OWNER_CREDENTIALS=json.dumps({"username": self.owner, "password": self.owner_password}))
        for serving_only in ("HOST", "PORT", "API_CONFIG", "DB_POOL_MIN_SIZE", "DB_POOL_MAX_SIZE"):
            del env[serving_only]
        env.update(overrides)
        return env

    def settings(self, **overrides: str) -> Settings:
        return Settings.from_env(self.env(**overrides))

    def migrate(self, **overrides: str) -> MigrationOutcome:
        return asyncio.run(migrate(MigrationSettings.from_env(self.migration_env(**overrides))))

    def admin(self) -> psycopg.Connection:
        """A superuser connection to this database (over the unix socket)."""
        return psycopg.connect(self.server.superuser_dsn(self.name), autocommit=True)

    def owner_dsn(self) -> str:
        return self.server.tcp_dsn(self.owner, self.owner_password, self.name)

    def app_dsn(self) -> str:
        return self.server.tcp_dsn(self.user, self.password, self.name)

    def count_transactions(self, transaction_id: str | None = None) -> int:
        """Rows in the transactions table (with `transaction_id`: the rows stored under that id)."""
        with self.admin() as conn:
            if transaction_id is None:
                row = conn.execute("SELECT count(*) FROM transactions").fetchone()
            else:
                row = conn.execute("SELECT count(*) FROM transactions WHERE transaction_id = %s", (transaction_id,)).fetchone()
        assert row is not None
        return int(row[0])

    def set_password(self, password: str) -> None:
        """Rotate the application role's password and end its sessions, as a rotation plus failover would."""
        with self.admin() as conn:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(self.user), sql.Literal(password)))
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (self.user,))


def create_database(server: TemporaryPostgres, *, migrated: bool = True) -> AppDatabase:
    """A database with its owner role; `migrated` runs the migration step (schema + application role)."""
    number = next(_database_numbers)
    database = AppDatabase(
        server=server,
        name=f"fraud_{number}",
        owner=f"fraud_owner_{number}",
        owner_password=secrets.token_urlsafe(16),
        user=f"fraud_app_{number}",
        password=secrets.token_urlsafe(16),
    )
    with psycopg.connect(server.superuser_dsn(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}").format(
                sql.Identifier(database.owner), sql.Literal(database.owner_password)
            )
        )
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database.name), sql.Identifier(database.owner)))
    if migrated:
        database.migrate()
    return database


def insert_transaction(
    conn: psycopg.Connection, payload: dict[str, object], *, score: float, decision: str, reasons: list[str]
) -> None:
    """Store `payload` as if the service had, with the given result (on the caller's connection)."""
    conn.execute(
        """INSERT INTO transactions (transaction_id, user_id, amount, currency, merchant_id, merchant_category,
               country, card_fingerprint, ts, score, decision, reasons)
           VALUES (%(transaction_id)s, %(user_id)s, %(amount)s, %(currency)s, %(merchant_id)s,
               %(merchant_category)s, %(country)s, %(card_fingerprint)s,
               to_timestamp(%(timestamp)s / 1000.0), %(score)s, %(decision)s, %(reasons)s)""",
        {
            "merchant_category": None,
            "card_fingerprint": None,
            **payload,
            "amount": str(payload["amount"]),
            "score": score,
            "decision": decision,
            "reasons": json.dumps(reasons),
        },
    )
