"""Versioned schema migrations, applied by the migration step (`python -m fraud_api.migrate`).

Never by the serving process: it logs in as the application role, which cannot change the
schema (privileges.py); it only checks that the schema is at least at the version it was built
for (`schema_version`). The step runs before a deployment shifts traffic, so migrations must
keep the previous release working: add, never rename or drop what it still reads.

The whole check-and-apply runs in one transaction holding a transaction-scoped advisory lock, so
two runs at once (a retried pipeline) apply each version once: the second waits on the lock,
then sees the recorded versions. A run that dies mid-migration rolls back and releases the lock
with its connection, so no half-applied version is ever recorded. Migrations are append-only:
never edit a released one, add the next.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncConnection

# Any 64-bit constant unique within the database; derived from the name so it reads as intent.
MIGRATION_LOCK_KEY = int.from_bytes(b"fraudapi", "big") & 0x7FFF_FFFF_FFFF_FFFF


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "create_transactions",
        """
        CREATE TABLE transactions (
            transaction_id    varchar(64)  PRIMARY KEY,
            user_id           varchar(64)  NOT NULL,
            amount            numeric      NOT NULL CHECK (amount > 0),
            currency          char(3)      NOT NULL,
            merchant_id       varchar(64)  NOT NULL,
            merchant_category char(4),
            country           char(2)      NOT NULL,
            card_fingerprint  varchar(128),
            ts                timestamptz  NOT NULL,
            score             double precision NOT NULL,
            decision          varchar(16)  NOT NULL,
            reasons           jsonb        NOT NULL,
            created_at        timestamptz  NOT NULL DEFAULT now()
        );
        -- The history read is "this user's latest transactions before t": the key order serves
        -- it directly and INCLUDE lets it be answered from the index alone.
        CREATE INDEX transactions_user_id_ts_idx
            ON transactions (user_id, ts DESC)
            INCLUDE (amount, country, merchant_id);
        """,
    ),
)

_CREATE_LEDGER = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
"""


REQUIRED_VERSION = max(migration.version for migration in MIGRATIONS)


async def apply_migrations(
    conn: AsyncConnection[Any],
    migrations: tuple[Migration, ...] = MIGRATIONS,
    *,
    then: Callable[[AsyncConnection[Any]], Awaitable[None]] | None = None,
) -> list[int]:
    """Apply the migrations not yet recorded; return the versions this call applied.

    `then` runs in the same transaction, under the same lock, once the schema is current (the
    migration step provisions the application role there).
    """
    applied_now: list[int] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
        await conn.execute(_CREATE_LEDGER)
        cursor = await conn.execute("SELECT version FROM schema_migrations")
        already = {row[0] for row in await cursor.fetchall()}
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version in already:
                continue
            # Several statements in one go: only the simple query protocol allows that.
            await conn.execute(migration.sql, prepare=False)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied_now.append(migration.version)
        if then is not None:
            await then(conn)
    return applied_now


async def schema_version(conn: AsyncConnection[Any]) -> int | None:
    """The highest applied version; None when the database has no schema yet.

    Raises psycopg.errors.InsufficientPrivilege when the role may not read the ledger.
    """
    try:
        cursor = await conn.execute("SELECT max(version) FROM schema_migrations")
    except psycopg.errors.UndefinedTable:
        return None
    row = await cursor.fetchone()
    return None if row is None else row[0]
