"""Database behaviour against the real PostgreSQL: password rotation, lost connections, races.

Migrations and the roles are tests/services/fraud_api/test_fraud_api_migrate.py.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import pytest

from fraud_api.app import create_app
from fraud_api.settings import Settings
from fraud_api.tracing import NullTracer
from tests.services.fraud_api.app_database import AppDatabase, insert_transaction
from tests.services.fraud_api.inprocess import InProcessClient, serve_in_process
from tests.services.payloads import transaction


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
        insert_transaction(conn, payload, score=0.1234, decision="approve", reasons=["first"])
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
