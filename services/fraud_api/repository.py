"""The SQL of the request path: one statement per step, each served by an index.

Per scored transaction the service makes two round trips: the history read and the idempotent
write, which on a replay returns the stored row in the same statement (a third read is needed
only when racing a concurrent request for the same transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from fraud_scoring import PastTransaction, ScoreResult, Transaction, UserHistory

_HISTORY = """
    SELECT (extract(epoch FROM ts) * 1000)::bigint, amount, country, merchant_id
    FROM transactions
    WHERE user_id = %(user_id)s
      AND ts > %(since)s AND ts <= %(until)s
      AND transaction_id <> %(transaction_id)s
    ORDER BY ts DESC
    LIMIT %(max_items)s
"""

# What a replay is compared with (fraud_scoring.replays) and answered from.
_OUTCOME_COLUMNS = """score, decision, reasons, transaction_id, user_id, amount, currency, merchant_id,
    merchant_category, country, card_fingerprint, ts"""

# Data-modifying CTEs run against the statement's snapshot, so `stored` cannot see the row
# `inserted` adds: exactly one branch returns a row, and a replay never overwrites anything.
_INSERT_OR_FETCH = f"""
    WITH inserted AS (
        INSERT INTO transactions (
            transaction_id, user_id, amount, currency, merchant_id, merchant_category,
            country, card_fingerprint, ts, score, decision, reasons
        ) VALUES (
            %(transaction_id)s, %(user_id)s, %(amount)s, %(currency)s, %(merchant_id)s,
            %(merchant_category)s, %(country)s, %(card_fingerprint)s, %(ts)s, %(score)s,
            %(decision)s, %(reasons)s
        )
        ON CONFLICT (transaction_id) DO NOTHING
        RETURNING {_OUTCOME_COLUMNS}
    )
    SELECT true, {_OUTCOME_COLUMNS} FROM inserted
    UNION ALL
    SELECT false, {_OUTCOME_COLUMNS} FROM transactions
    WHERE transaction_id = %(transaction_id)s AND NOT EXISTS (SELECT FROM inserted)
"""

_STORED_OUTCOME = f"""
    SELECT false, {_OUTCOME_COLUMNS} FROM transactions WHERE transaction_id = %s
"""

_BY_ID = """
    SELECT transaction_id, user_id, amount, currency, merchant_id, merchant_category, country,
           card_fingerprint, ts, score, decision, reasons, created_at
    FROM transactions
    WHERE transaction_id = %s
"""


@dataclass(frozen=True)
class StoredOutcome:
    """The result stored for a transaction, whether this call stored it, and what was stored."""

    created: bool
    result: ScoreResult
    transaction: Transaction


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS = timedelta(milliseconds=1)


def datetime_from_ms(timestamp_ms: int) -> datetime:
    # Integer arithmetic: a float division could turn .123 s into 122999 microseconds.
    return _EPOCH + timestamp_ms * _ONE_MS


def ms_from_datetime(moment: datetime) -> int:
    return (moment - _EPOCH) // _ONE_MS


async def load_history(conn: AsyncConnection[Any], txn: Transaction, *, lookback_hours: int, max_items: int) -> UserHistory:
    """The user's latest transactions up to the stamped transaction's time."""
    assert txn.timestamp is not None, "the service stamps transactions before scoring them"
    at_ms = txn.timestamp
    cursor = await conn.execute(
        _HISTORY,
        {
            "user_id": txn.user_id,
            "since": datetime_from_ms(at_ms - lookback_hours * 3_600_000),
            "until": datetime_from_ms(at_ms),
            "transaction_id": txn.transaction_id,
            "max_items": max_items,
        },
    )
    rows = await cursor.fetchall()
    return UserHistory.of(
        PastTransaction(timestamp=ts_ms, amount=amount, country=country, merchant_id=merchant_id)
        for ts_ms, amount, country, merchant_id in rows
    )


async def insert_or_fetch(conn: AsyncConnection[Any], txn: Transaction, result: ScoreResult) -> StoredOutcome:
    """Store the stamped transaction unless its id is stored; either way, what is stored."""
    assert txn.timestamp is not None, "the service stamps transactions before storing them"
    cursor = await conn.execute(
        _INSERT_OR_FETCH,
        {
            "transaction_id": txn.transaction_id,
            "user_id": txn.user_id,
            "amount": txn.amount,
            "currency": txn.currency,
            "merchant_id": txn.merchant_id,
            "merchant_category": txn.merchant_category,
            "country": txn.country,
            "card_fingerprint": txn.card_fingerprint,
            "ts": datetime_from_ms(txn.timestamp),
            "score": result.score,
            "decision": result.decision,
            "reasons": Jsonb(list(result.reasons)),
        },
    )
    row = await cursor.fetchone()
    if row is None:
        # A concurrent request for the same transaction committed after this statement took its
        # snapshot: the insert waited for it and conflicted, but the snapshot cannot see its
        # row. A new statement can.
        outcome = await find_outcome(conn, txn.transaction_id)
        if outcome is None:
            raise LookupError(f"transaction {txn.transaction_id} neither inserted nor found")
        return outcome
    return _outcome(row)


async def find_outcome(conn: AsyncConnection[Any], transaction_id: str) -> StoredOutcome | None:
    """What is stored under `transaction_id` (created=False), or None."""
    cursor = await conn.execute(_STORED_OUTCOME, (transaction_id,))
    row = await cursor.fetchone()
    return None if row is None else _outcome(row)


def _outcome(row: tuple[Any, ...]) -> StoredOutcome:
    (created, score, decision, reasons, transaction_id, user_id, amount, currency, merchant_id,
     merchant_category, country, card_fingerprint, ts) = row
    return StoredOutcome(
        created=created,
        result=ScoreResult(score=score, decision=decision, reasons=tuple(reasons)),
        transaction=Transaction(
            transaction_id=transaction_id,
            user_id=user_id,
            amount=amount,
            currency=currency,
            merchant_id=merchant_id,
            country=country,
            merchant_category=merchant_category,
            timestamp=ms_from_datetime(ts),
            card_fingerprint=card_fingerprint,
        ),
    )


async def fetch_transaction(conn: AsyncConnection[Any], transaction_id: str) -> dict[str, Any] | None:
    cursor = await conn.execute(_BY_ID, (transaction_id,))
    row = await cursor.fetchone()
    if row is None:
        return None
    (txn_id, user_id, amount, currency, merchant_id, merchant_category, country,
     card_fingerprint, ts, score, decision, reasons, created_at) = row
    record: dict[str, Any] = {
        "transaction_id": txn_id,
        "user_id": user_id,
        "amount": _json_amount(amount),
        "currency": currency,
        "merchant_id": merchant_id,
        "merchant_category": merchant_category,
        "country": country,
        "card_fingerprint": card_fingerprint,
        "timestamp": ms_from_datetime(ts),
        "score": score,
        "decision": decision,
        "reasons": list(reasons),
        "created_at": created_at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    return {name: value for name, value in record.items() if value is not None}


def _json_amount(amount: Decimal) -> int | float:
    # Amounts are at most 1,000,000 with a few decimals: exact enough as a JSON number, and a
    # number is what clients sent.
    return int(amount) if amount == amount.to_integral_value() else float(amount)
