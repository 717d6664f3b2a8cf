"""Database behaviour against the real PostgreSQL: migrations, rotation, lost connections, races."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import boto3
import psycopg
import pytest

from fraud_api.app import create_app
from fraud_api.migrations import MIGRATIONS, Migration, apply_migrations
from fraud_api.settings import Settings
from fraud_api.tracing import NullTracer
from tests.services.fraud_api.app_database import AppDatabase
from tests.services.fraud_api.inprocess import InProcessClient, serve_in_process
from tests.services.fraud_api.payloads import BASE_TIMESTAMP_MS, transaction


def _dsn(database: AppDatabase) -> str:
    return database.server.tcp_dsn(database.user, database.password, database.name)


async def _migrate_concurrently(database: AppDatabase, tasks: int, migrations: tuple[Migration, ...]) -> list[list[int]]:
    connections = [await psycopg.AsyncConnection.connect(_dsn(database), autocommit=True) for _ in range(tasks)]
    try:
        return list(await asyncio.gather(*(apply_migrations(conn, migrations) for conn in connections)))
    finally:
        for conn in connections:
            await conn.close()


def _ledger(database: AppDatabase) -> list[tuple[int, str]]:
    with database.admin() as conn:
        return conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()


def test_concurrent_startups_apply_each_migration_once(fresh_database: AppDatabase) -> None:
    results = asyncio.run(_migrate_concurrently(fresh_database, 6, MIGRATIONS))

    assert sorted(results) == [[]] * 5 + [[1]]
    assert _ledger(fresh_database) == [(1, "create_transactions")]
    assert fresh_database.count_transactions() == 0


def test_a_later_migration_is_applied_once_on_top(fresh_database: AppDatabase) -> None:
    asyncio.run(_migrate_concurrently(fresh_database, 1, MIGRATIONS))
    next_version = (*MIGRATIONS, Migration(2, "add_channel", "ALTER TABLE transactions ADD COLUMN channel text"))

    results = asyncio.run(_migrate_concurrently(fresh_database, 4, next_version))

    assert sorted(results) == [[]] * 3 + [[2]]
    assert [version for version, _ in _ledger(fresh_database)] == [1, 2]


def test_a_failing_migration_leaves_nothing_half_applied(fresh_database: AppDatabase) -> None:
    broken = (*MIGRATIONS, Migration(2, "broken", "ALTER TABLE no_such_table ADD COLUMN x int"))

    with pytest.raises(psycopg.errors.UndefinedTable):
        asyncio.run(_migrate_concurrently(fresh_database, 1, broken))

    with fresh_database.admin() as conn:
        assert conn.execute("SELECT to_regclass('transactions'), to_regclass('schema_migrations')").fetchone() == (None, None)


def _secret(username: str, password: str) -> str:
    return json.dumps({"username": username, "password": password, "engine": "postgres", "port": 5432})


def _create_secret(database: AppDatabase) -> tuple[Any, str]:
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arn = secrets.create_secret(Name="fraud-db", SecretString=_secret(database.user, database.password))["ARN"]
    return secrets, arn


@pytest.mark.usefixtures("aws")  # moto's Secrets Manager (tests/services/conftest.py)
def test_requests_survive_a_password_rotation(fresh_database: AppDatabase, caplog: pytest.LogCaptureFixture) -> None:
    secrets, arn = _create_secret(fresh_database)
    settings = fresh_database.settings(DB_SECRET_ARN=arn)
    with serve_in_process(create_app(settings, tracer=NullTracer())) as client:
        assert client.post("/api/v1/score", json=transaction()).status_code == 201

        fresh_database.set_password("rotated-password")
        secrets.put_secret_value(SecretId=arn, SecretString=_secret(fresh_database.user, "rotated-password"))

        after_rotation = client.post("/api/v1/score", json=transaction())
        assert after_rotation.status_code == 201, after_rotation.text
        assert client.get("/health").status_code == 200
    refreshes = [record for record in caplog.records if record.name == "fraud_api.credentials"]
    assert [getattr(record, "changed") for record in refreshes] == [True]


@pytest.mark.usefixtures("aws")
def test_credentials_come_from_the_secret_when_not_injected(fresh_database: AppDatabase) -> None:
    _, arn = _create_secret(fresh_database)
    env = fresh_database.env(DB_SECRET_ARN=arn)
    del env["DB_CREDENTIALS"]

    with serve_in_process(create_app(Settings.from_env(env), tracer=NullTracer())) as client:
        assert client.post("/api/v1/score", json=transaction()).status_code == 201


def test_without_a_secret_to_refresh_from_a_rotation_means_503_not_500(fresh_database: AppDatabase) -> None:
    settings = fresh_database.settings(DB_POOL_TIMEOUT_SECONDS="0.3")
    with serve_in_process(create_app(settings, tracer=NullTracer())) as client:
        fresh_database.set_password("rotated-elsewhere")

        scored = client.post("/api/v1/score", json=transaction())
        health = client.get("/health")

    assert scored.status_code == 503
    assert scored.headers["retry-after"] == "1"
    assert health.status_code == 503
    assert health.json()["status"] == "unavailable"


def test_requests_survive_the_database_dropping_every_connection(fresh_database: AppDatabase) -> None:
    with serve_in_process(create_app(fresh_database.settings(), tracer=NullTracer())) as client:
        assert client.post("/api/v1/score", json=transaction()).status_code == 201

        with fresh_database.admin() as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (fresh_database.user,))

        assert client.post("/api/v1/score", json=transaction()).status_code == 201


def test_a_duplicate_racing_an_uncommitted_first_insert_gets_the_stored_result(
    client: InProcessClient, shared_database: AppDatabase
) -> None:
    payload = transaction(amount=77)
    result: dict[str, object] = {}
    with shared_database.admin() as conn, conn.transaction():
        # Another request's insert, not yet committed: the API's insert has to wait for it.
        conn.execute(
            """INSERT INTO transactions (transaction_id, user_id, amount, currency, merchant_id, country,
                   ts, score, decision, reasons)
               VALUES (%s, %s, 77, 'EUR', 'm', 'DE', to_timestamp(%s / 1000.0), 0.1234, 'approve', '["first"]')""",
            (payload["transaction_id"], payload["user_id"], BASE_TIMESTAMP_MS),
        )
        racing = threading.Thread(target=lambda: result.update(response=client.post("/api/v1/score", json=payload)))
        racing.start()
        time.sleep(0.3)
        assert racing.is_alive(), "the API did not wait for the uncommitted insert"
    racing.join(timeout=5)

    response = result["response"]
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.json() == {  # type: ignore[attr-defined]
        "transaction_id": payload["transaction_id"],
        "score": 0.1234,
        "decision": "approve",
        "reasons": ["first"],
    }
