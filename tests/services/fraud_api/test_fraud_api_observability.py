"""Tracing, structured logs and the credential store, without a database."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from fraud_api.credentials import CredentialsError, CredentialStore, DbCredentials
from fraud_api.database import is_authentication_failure
from fraud_api.logs import JsonFormatter
from fraud_api.tracing import NullTracer, XRayUdpTracer, parse_daemon_address, span, tracer_for


@pytest.fixture
def daemon() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    yield sock
    sock.close()


def _received_segment(daemon: socket.socket) -> dict[str, Any]:
    header, _, body = daemon.recv(65536).partition(b"\n")
    assert json.loads(header) == {"format": "json", "version": 1}
    return json.loads(body)


def test_a_sampled_request_becomes_a_segment_with_subsegments(daemon: socket.socket) -> None:
    host, port = daemon.getsockname()
    tracer = XRayUdpTracer(f"{host}:{port}")
    root = "1-5759e988-bd862e3fe1be46a994272793"

    segment = tracer.begin("POST", "/api/v1/score", f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1")
    with span("postgres.load_history"):
        pass
    tracer.finish(segment, 503)

    document = _received_segment(daemon)
    assert document["trace_id"] == root and document["parent_id"] == "53995c3f42cd8ad8"
    assert document["http"] == {"request": {"method": "POST", "url": "/api/v1/score"}, "response": {"status": 503}}
    assert document["fault"] is True
    assert [sub["name"] for sub in document["subsegments"]] == ["postgres.load_history"]
    assert document["end_time"] >= document["start_time"]
    tracer.close()


def test_the_callers_no_sampling_decision_is_respected(daemon: socket.socket) -> None:
    host, port = daemon.getsockname()
    tracer = XRayUdpTracer(f"{host}:{port}")

    assert tracer.begin("GET", "/health", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0") is None
    tracer.close()


def test_forged_trace_ids_are_replaced(daemon: socket.socket) -> None:
    host, port = daemon.getsockname()
    tracer = XRayUdpTracer(f"{host}:{port}")

    segment = tracer.begin("GET", "/health", "Root=<script>;Parent=x;Sampled=1")

    assert segment is not None and segment.trace_id.startswith("1-") and segment.parent_id is None
    tracer.finish(segment, 200)
    tracer.close()


def test_without_a_daemon_tracing_is_a_no_op() -> None:
    tracer = tracer_for(None)

    assert isinstance(tracer, NullTracer)
    assert tracer.begin("GET", "/health", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1") is None
    with span("anything"):
        pass


def test_daemon_address_forms() -> None:
    assert parse_daemon_address("127.0.0.1:2000") == ("127.0.0.1", 2000)
    assert parse_daemon_address("tcp:127.0.0.1:2000 udp:127.0.0.2:2001") == ("127.0.0.2", 2001)
    with pytest.raises(ValueError):
        parse_daemon_address("nonsense")


def test_log_lines_are_single_json_objects_with_extra_fields() -> None:
    record = logging.LogRecord("fraud_api.access", logging.INFO, __file__, 1, "request", None, None)
    record.status = 201
    record.duration_ms = 1.5

    line = JsonFormatter().format(record)

    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "request" and entry["status"] == 201 and entry["duration_ms"] == 1.5
    assert entry["timestamp"].endswith("Z")


def test_secret_strings_that_are_not_credentials_are_refused() -> None:
    for bad in ("not json", "[]", '{"username": "u"}', '{"password": "p"}'):
        with pytest.raises(CredentialsError):
            DbCredentials.from_secret_string(bad)


def test_a_refresh_is_shared_by_concurrent_failures_and_rate_limited() -> None:
    fetched = []
    now = [100.0]

    def fetch() -> DbCredentials:
        fetched.append(1)
        return DbCredentials("app", f"password-{len(fetched)}")

    store = CredentialStore(DbCredentials("app", "old"), fetch, min_refresh_interval_s=5, clock=lambda: now[0])
    rejected = store.current

    async def many_failures() -> list[DbCredentials]:
        return list(await asyncio.gather(*(store.refresh(rejected) for _ in range(10))))

    results = asyncio.run(many_failures())
    assert len(fetched) == 1 and {r.password for r in results} == {"password-1"}

    asyncio.run(store.refresh(store.current))  # the new password fails too, too soon to ask again
    assert len(fetched) == 1
    now[0] += 6
    asyncio.run(store.refresh(store.current))
    assert len(fetched) == 2


def test_only_login_rejections_count_as_authentication_failures() -> None:
    assert is_authentication_failure(psycopg.OperationalError('FATAL:  password authentication failed for user "app"'))
    assert not is_authentication_failure(psycopg.OperationalError("connection refused"))
    assert not is_authentication_failure(ValueError("password authentication failed"))
