"""Application factory: wires settings, database, scoring and HTTP together.

Start-up order (Starlette lifespan): API configuration (the secret's current version), database
login, pool (waits for its first connections, so a wrong host or login fails the task at start,
where ECS shows it), the schema and role checks, then traffic while the API configuration
refreshes in the background. The serving process never changes the schema: that is the
migration step's job (migrate.py), and the role it serves with could not (privileges.py).
Shutdown: uvicorn stops accepting, drains in-flight requests, then the lifespan stops the
refresh and closes the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from starlette.applications import Starlette
from starlette.middleware import Middleware

from fraud_api.api_config import ApiConfigFetcher, ApiConfigSource, secrets_manager_api_config
from fraud_api.credentials import CredentialsFetcher, CredentialStore, IamTokenLogin, Login, secrets_manager_fetcher
from fraud_api.database import create_pool
from fraud_api.errors import ConfigurationError
from fraud_api.migrations import REQUIRED_VERSION, schema_version
from fraud_api.observability import RequestObservability
from fraud_api.privileges import serving_role_problems
from fraud_api.responses import JsonResponder
from fraud_api.routes import ROUTES
from fraud_api.service import TransactionService
from fraud_api.settings import DatabaseSettings, Settings
from fraud_api.tracing import Tracer, tracer_for

log = logging.getLogger(__name__)
POOL_OPEN_TIMEOUT_S = 15.0


class UnfitDatabase(RuntimeError):
    """The database is not ready for this build, or the login may do more than serve."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


async def login_for(database: DatabaseSettings, fetcher: CredentialsFetcher | None = None) -> Login:
    login = database.login
    if login.method == "iam":
        assert database.aws_region is not None, "settings require a region with DB_AUTH=iam"
        return IamTokenLogin(host=database.host, port=database.port, user=login.user, region=database.aws_region)
    if fetcher is None and login.secret_arn:
        fetcher = secrets_manager_fetcher(login.secret_arn, database.aws_region)
    initial = login.credentials
    if initial is None:
        if fetcher is None:
            raise ConfigurationError(["DB_CREDENTIALS or DB_SECRET_ARN is required"])
        initial = await asyncio.to_thread(fetcher)
    return CredentialStore(initial, fetcher)


async def api_config_source_for(settings: Settings, fetcher: ApiConfigFetcher | None = None) -> ApiConfigSource:
    config = settings.api_config
    if fetcher is None and config.secret_arn:
        fetcher = secrets_manager_api_config(config.secret_arn, settings.aws_region, dev_mode=settings.dev_mode)
    initial = config.fixed
    if fetcher is not None:
        # A secret the service cannot use stops the start here (ConfigurationError), visibly.
        initial = await asyncio.to_thread(fetcher)
    assert initial is not None, "settings require the secret's ARN or a fixed configuration"
    return ApiConfigSource(
        initial, fetcher, refresh_interval_s=config.refresh_interval_s, key_overlap_s=config.key_overlap_s
    )


async def check_database(conn: psycopg.AsyncConnection[Any]) -> None:
    """Refuse to serve on a schema older than this build or with a role that can change it."""
    try:
        version = await schema_version(conn)
    except psycopg.errors.InsufficientPrivilege:
        raise UnfitDatabase(
            ["the role cannot read schema_migrations: run `python -m fraud_api.migrate`, which grants it"]
        ) from None
    if version is None or version < REQUIRED_VERSION:
        raise UnfitDatabase(
            [f"the schema is at version {version}, this build needs {REQUIRED_VERSION}: run `python -m fraud_api.migrate` first"]
        )
    problems = await serving_role_problems(conn)
    if problems:
        raise UnfitDatabase(
            [*problems, "serve as the application role that `python -m fraud_api.migrate` provisions (DB_USER)"]
        )


def create_app(
    settings: Settings,
    *,
    credentials_fetcher: CredentialsFetcher | None = None,
    api_config_fetcher: ApiConfigFetcher | None = None,
    tracer: Tracer | None = None,
) -> Starlette:
    """The fetchers replace the Secrets Manager readers (tests); `tracer` the X-Ray one."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        try:
            api_config = await api_config_source_for(settings, api_config_fetcher)
        except ConfigurationError as unusable:
            log.error("the API configuration is unusable", extra={"problems": unusable.problems})
            raise
        pool = create_pool(settings.database, await login_for(settings.database, credentials_fetcher))
        await pool.open(wait=True, timeout=POOL_OPEN_TIMEOUT_S)
        refreshing: asyncio.Task[None] | None = None
        try:
            async with pool.connection() as conn:
                try:
                    await check_database(conn)
                except UnfitDatabase as unfit:
                    log.error("refusing to serve", extra={"problems": unfit.problems})
                    raise
            log.info("database ready", extra={"schema_version": REQUIRED_VERSION, "role": settings.database.login.user})
            refreshing = asyncio.create_task(api_config.refresh_forever(), name="api-config-refresh")
            yield {
                "service": TransactionService(pool, lambda: api_config.current.scoring),
                "respond": JsonResponder(api_config.signing_keys),
            }
        finally:
            if refreshing is not None:
                refreshing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await refreshing
            await pool.close()
            log.info("database pool closed")

    return Starlette(
        routes=ROUTES,
        middleware=[Middleware(RequestObservability, tracer=tracer or tracer_for(settings.xray_daemon_address))],
        lifespan=lifespan,
    )
