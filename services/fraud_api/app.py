"""Application factory: wires settings, database, scoring and HTTP together.

Start-up order (Starlette lifespan): credentials, pool (waits for its first connections, so a
wrong host or password fails the task at start, where ECS shows it), migrations, then traffic.
Shutdown: uvicorn stops accepting, drains in-flight requests, then the lifespan closes the pool.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware

from fraud_api.credentials import CredentialsFetcher, CredentialStore, secrets_manager_fetcher
from fraud_api.database import create_pool
from fraud_api.errors import ConfigurationError
from fraud_api.migrations import apply_migrations
from fraud_api.observability import RequestObservability
from fraud_api.responses import JsonResponder
from fraud_api.routes import ROUTES
from fraud_api.service import TransactionService
from fraud_api.settings import Settings
from fraud_api.tracing import Tracer, tracer_for

log = logging.getLogger(__name__)
POOL_OPEN_TIMEOUT_S = 15.0


async def credential_store_for(settings: Settings, fetcher: CredentialsFetcher | None) -> CredentialStore:
    database = settings.database
    if fetcher is None and database.secret_arn:
        fetcher = secrets_manager_fetcher(database.secret_arn, settings.aws_region)
    initial = database.credentials
    if initial is None:
        if fetcher is None:
            raise ConfigurationError(["DB_CREDENTIALS or DB_SECRET_ARN is required"])
        initial = await asyncio.to_thread(fetcher)
    return CredentialStore(initial, fetcher)


def create_app(
    settings: Settings,
    *,
    credentials_fetcher: CredentialsFetcher | None = None,
    tracer: Tracer | None = None,
) -> Starlette:
    """`credentials_fetcher` replaces the Secrets Manager reader (tests); `tracer` the X-Ray one."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        store = await credential_store_for(settings, credentials_fetcher)
        pool = create_pool(settings.database, store)
        await pool.open(wait=True, timeout=POOL_OPEN_TIMEOUT_S)
        try:
            async with pool.connection() as conn:
                applied = await apply_migrations(conn)
            log.info("database ready", extra={"migrations_applied": applied})
            yield {
                "service": TransactionService(pool, settings.api_config.scoring),
                "respond": JsonResponder(settings.api_config.signing_key),
            }
        finally:
            await pool.close()
            log.info("database pool closed")

    return Starlette(
        routes=ROUTES,
        middleware=[Middleware(RequestObservability, tracer=tracer or tracer_for(settings.xray_daemon_address))],
        lifespan=lifespan,
    )
