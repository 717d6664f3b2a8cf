"""The PostgreSQL connection pool and how it survives credential rotation and lost connections.

One async pool per process (psycopg_pool.AsyncConnectionPool): the event loop never blocks on
the database, and connections stay warm, so a request pays only its own round trips.

Logins (credentials.py): each new connection asks the Login for credentials, an IAM token or the
current password. A password change does not affect established sessions, only new logins; when
PostgreSQL rejects a password, the store re-reads the secret and the login is retried once. The
pool itself is never torn down, so in-flight requests on healthy connections are not disturbed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

from fraud_api.credentials import Login
from fraud_api.settings import DatabaseSettings

T = TypeVar("T")
log = logging.getLogger(__name__)

# libpq reports login failures as text only (no SQLSTATE reaches the client before a session).
_AUTH_FAILURE_MARKERS = ("password authentication failed", "authentication failed", "pam authentication failed")


def is_authentication_failure(exc: BaseException) -> bool:
    return isinstance(exc, psycopg.OperationalError) and any(
        marker in str(exc).lower() for marker in _AUTH_FAILURE_MARKERS
    )


def conninfo_for(settings: DatabaseSettings) -> str:
    return make_conninfo(
        host=settings.host,
        port=settings.port,
        dbname=settings.name,
        sslmode=settings.sslmode,
        application_name=settings.application_name,
        connect_timeout=settings.connect_timeout_s,
        # Set at login, so no per-connection SET round trip: a stuck query fails the request
        # instead of holding a pooled connection indefinitely.
        options=f"-c statement_timeout={settings.statement_timeout_ms}"
        " -c idle_in_transaction_session_timeout=10000",
    )


def connection_class_for(login: Login) -> type[AsyncConnection[Any]]:
    """An AsyncConnection whose `connect` logs in with the Login's credentials."""

    class LoginConnection(AsyncConnection[Any]):
        @classmethod
        async def connect(cls, conninfo: str = "", **kwargs: Any) -> "LoginConnection":  # type: ignore[override]
            credentials = await login.credentials()
            try:
                return await super().connect(
                    conninfo, user=credentials.username, password=credentials.password, **kwargs
                )
            except psycopg.OperationalError as exc:
                if not is_authentication_failure(exc):
                    raise
                retry_with = await login.after_rejection(credentials)
                if retry_with is None:
                    raise
                return await super().connect(
                    conninfo, user=retry_with.username, password=retry_with.password, **kwargs
                )

    return LoginConnection


def create_pool(settings: DatabaseSettings, login: Login) -> AsyncConnectionPool:
    return AsyncConnectionPool(
        conninfo_for(settings),
        connection_class=connection_class_for(login),
        # Autocommit: each statement is its own transaction, which is all the request path
        # needs, and it saves the BEGIN/COMMIT round trips. Statements are prepared on first
        # use because the service runs the same three queries all day.
        kwargs={"autocommit": True, "prepare_threshold": 0},
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        timeout=settings.pool_wait_timeout_s,
        # Recycle logins well within the 30-day rotation, and spread them out (psycopg adds jitter).
        max_lifetime=30 * 60.0,
        name="fraud-api",
        open=False,
    )


def _lost_connection(conn: AsyncConnection[Any] | None) -> bool:
    return conn is not None and (conn.closed or conn.broken)


async def run_with_reconnect(pool: AsyncConnectionPool, work: Callable[[AsyncConnection[Any]], Awaitable[T]]) -> T:
    """Run `work` on a pooled connection, once more on a fresh one if the first was dead.

    Pooled connections die silently (database failover, idle timeouts, an operator terminating
    sessions). Checking each one before use would cost a round trip on every request; instead a
    failure caused by a dead connection makes the pool check its idle ones and the work is
    retried once. `work` must therefore be idempotent, which every query here is.
    """
    used: AsyncConnection[Any] | None = None
    try:
        async with pool.connection() as conn:
            used = conn
            return await work(conn)
    except psycopg.OperationalError as exc:
        if not _lost_connection(used):
            raise
        log.warning("database connection lost; retrying on a fresh one", extra={"error": type(exc).__name__})
    await pool.check()
    async with pool.connection() as conn:
        return await work(conn)
