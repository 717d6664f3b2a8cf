"""Fixtures of the fraud-api tests: one real PostgreSQL per session, databases and apps on top.

The server is the real PostgreSQL 15 (see postgres_server.py), started once per session in a
temporary directory and stopped at the end. Each test that needs isolation gets its own
database (CREATE DATABASE is a file copy of template1: milliseconds), migrated by the real
migration step unless the test wants it empty; the app always serves as the application role.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fraud_api.app import create_app
from fraud_api.tracing import NullTracer
from tests.services.fraud_api.app_database import AppDatabase, create_database
from tests.services.fraud_api.inprocess import InProcessClient, serve_in_process
from tests.services.fraud_api.postgres_server import PostgresUnavailable, TemporaryPostgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[TemporaryPostgres]:
    server = TemporaryPostgres()
    try:
        server.start()
    except PostgresUnavailable as exc:
        pytest.skip(f"cannot run a PostgreSQL server here: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def shared_database(postgres: TemporaryPostgres) -> AppDatabase:
    """One database for the tests that only add rows with unique ids."""
    return create_database(postgres)


@pytest.fixture
def fresh_database(postgres: TemporaryPostgres) -> AppDatabase:
    return create_database(postgres)


@pytest.fixture
def empty_database(postgres: TemporaryPostgres) -> AppDatabase:
    """A database with its owner role only: no schema, no application role yet."""
    return create_database(postgres, migrated=False)


@pytest.fixture(scope="session")
def client(shared_database: AppDatabase) -> Iterator[InProcessClient]:
    """The app in-process (lifespan included: pool, migrations) against the shared database."""
    with serve_in_process(create_app(shared_database.settings(), tracer=NullTracer())) as in_process:
        yield in_process

