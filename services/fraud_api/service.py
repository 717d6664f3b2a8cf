"""What the endpoints do, apart from HTTP: score-and-store, look up, check the database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from fraud_api import repository
from fraud_api.database import run_with_reconnect
from fraud_api.repository import StoredOutcome
from fraud_api.tracing import span
from fraud_scoring import TIMESTAMP_WINDOW, ScoringConfig, Transaction, ValidationError, check_replay, score_transaction


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class TransactionService:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        scoring: Callable[[], ScoringConfig],
        *,
        clock_ms: Callable[[], int] = _now_ms,
    ) -> None:
        self._pool = pool
        # Read per request: the API config (and its thresholds) is refreshed while serving.
        self._scoring = scoring
        self._clock_ms = clock_ms

    async def score(self, txn: Transaction) -> StoredOutcome:
        """Score against the user's recent history and store the result once.

        A transaction without a timestamp is scored and stored at the time it arrived; one with
        a timestamp outside the window (fraud_scoring.timestamps) is refused unless it is a
        retry of a stored transaction. A retry gets the stored result back, never a re-scored
        one (by then the user's history includes later transactions and the answer could
        differ); the same id with other content raises ReplayConflict and changes nothing.
        """
        try:
            stamped = TIMESTAMP_WINDOW.stamp(txn, self._clock_ms())
        except ValidationError:
            stored = await self._stored(txn.transaction_id)
            if stored is None:
                raise
            check_replay(stored.transaction, txn)
            return stored
        scoring = self._scoring()
        limits = scoring.history

        async def score_and_store(conn: AsyncConnection[Any]) -> StoredOutcome:
            with span("postgres.load_history"):
                history = await repository.load_history(
                    conn, stamped, lookback_hours=limits.lookback_hours, max_items=limits.max_items
                )
            result = score_transaction(stamped, history, scoring)
            with span("postgres.store_transaction"):
                return await repository.insert_or_fetch(conn, stamped, result)

        outcome = await run_with_reconnect(self._pool, score_and_store)
        if not outcome.created:
            check_replay(outcome.transaction, txn)
        return outcome

    async def _stored(self, transaction_id: str) -> StoredOutcome | None:
        async def fetch(conn: AsyncConnection[Any]) -> StoredOutcome | None:
            with span("postgres.fetch_transaction"):
                return await repository.find_outcome(conn, transaction_id)

        return await run_with_reconnect(self._pool, fetch)

    async def find(self, transaction_id: str) -> dict[str, Any] | None:
        async def fetch(conn: AsyncConnection[Any]) -> dict[str, Any] | None:
            with span("postgres.fetch_transaction"):
                return await repository.fetch_transaction(conn, transaction_id)

        return await run_with_reconnect(self._pool, fetch)

    async def check_database(self, timeout_s: float) -> None:
        """Raise unless the database answers a trivial query within `timeout_s`."""
        async with asyncio.timeout(timeout_s):
            async with self._pool.connection(timeout=timeout_s) as conn:
                await conn.execute("SELECT 1")
