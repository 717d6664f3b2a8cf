"""The real server process (`python -m fraud_api`, uvicorn) against the real database.

Covers what the in-process tests cannot: the entry point, uvicorn's configuration, the JSON log
lines on stdout and graceful shutdown on SIGTERM (stop accepting, drain, close the pool, exit 0).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from scripts.paths import REPO_ROOT
from tests.services.fraud_api.app_database import AppDatabase, insert_transaction
from tests.services.fraud_api.server_process import ServerProcess, process_env, running_server
from tests.services.payloads import transaction

@pytest.fixture
def server(fresh_database: AppDatabase) -> Iterator[ServerProcess]:
    with running_server(fresh_database.env(SHUTDOWN_GRACE_SECONDS="10")) as process:
        yield process


def test_the_server_serves_all_endpoints_and_shuts_down_cleanly(server: ServerProcess) -> None:
    payload = transaction()
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        health = client.get("/health")
        scored = client.post("/api/v1/score", json=payload, headers={"x-request-id": "server-test-1"})
        replayed = client.post("/api/v1/score", json=payload)
        fetched = client.get(f"/api/v1/transactions/{payload['transaction_id']}")
        missing = client.get("/api/v1/transactions/does-not-exist")
        bad = client.post("/api/v1/score", content=b"{", headers={"content-type": "application/json"})

    assert (health.status_code, scored.status_code, replayed.status_code) == (200, 201, 200)
    assert (fetched.status_code, missing.status_code, bad.status_code) == (200, 404, 400)
    assert fetched.json()["transaction_id"] == payload["transaction_id"]
    assert "server" not in scored.headers
    probe = subprocess.run(
        [sys.executable, "-m", "fraud_api.healthcheck"],
        env={**server.env, "PORT": server.base_url.rsplit(":", 1)[1]},
        cwd=REPO_ROOT,
        timeout=10,
    )
    assert probe.returncode == 0  # the image's HEALTHCHECK command

    server.process.send_signal(signal.SIGTERM)

    assert server.process.wait(timeout=15) == 0
    entries = server.log_entries()
    access = [entry for entry in entries if entry.get("logger") == "fraud_api.access"]
    assert {"method", "path", "status", "duration_ms", "request_id"} <= set(access[0])
    assert any(entry["request_id"] == "server-test-1" and entry["status"] == 201 for entry in access)
    assert any(entry.get("message") == "database pool closed" for entry in entries)


def test_sigterm_drains_the_request_in_flight_and_refuses_new_ones(
    server: ServerProcess, fresh_database: AppDatabase
) -> None:
    payload = transaction()
    outcome: dict[str, httpx.Response] = {}
    with fresh_database.admin() as conn, conn.transaction():
        # An uncommitted insert of the same transaction holds the API's request mid-flight.
        insert_transaction(conn, payload, score=0.5, decision="review", reasons=[])
        in_flight = threading.Thread(
            target=lambda: outcome.update(response=httpx.post(f"{server.base_url}/api/v1/score", json=payload, timeout=10))
        )
        in_flight.start()
        _wait_until_a_query_waits_on_a_lock(fresh_database)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)

        assert server.process.poll() is None, "the server exited with a request in flight"
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{server.base_url}/health", timeout=1)
    in_flight.join(timeout=10)

    assert outcome["response"].status_code == 200
    assert outcome["response"].json()["decision"] == "review"
    assert server.process.wait(timeout=15) == 0


def _wait_until_a_query_waits_on_a_lock(database: AppDatabase, timeout_seconds: float = 15) -> None:
    """The request is in flight once the API's query waits on the test's uncommitted row; a fixed
    sleep raced the request on a loaded machine (SIGTERM came before it was even sent)."""
    deadline = time.monotonic() + timeout_seconds
    with database.admin() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()[0]
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError(f"no query of the API waited on the held row within {timeout_seconds} s")


def test_a_misconfigured_server_exits_with_the_problems_logged(fresh_database: AppDatabase) -> None:
    env = process_env({**fresh_database.env(), "API_CONFIG": "", "DB_SSLMODE": "sometimes"})

    completed = subprocess.run(
        [sys.executable, "-m", "fraud_api"], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=20
    )

    assert completed.returncode == 2
    problems = json.loads(completed.stdout.strip().splitlines()[-1])["problems"]
    assert any("API_CONFIG" in problem for problem in problems)
    assert any("DB_SSLMODE" in problem for problem in problems)
