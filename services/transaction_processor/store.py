"""The transactions table as this function sees it: find, read a user's history, insert once.

Items are written in DynamoDB's wire format with the low-level client: the resource API would
add ~100 ms of model loading to every cold start for no gain here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fraud_scoring import PastTransaction, ScoreResult, Transaction, UserHistory
from fraud_scoring.buckets import time_bucket
from fraud_scoring.config import HistoryLimits

Item = dict[str, dict[str, Any]]
_HOUR_MS = 3_600_000
_DAY_SECONDS = 86_400


@dataclass(frozen=True)
class StoredResult:
    """The part of a stored transaction a client gets back, identical on first write and on replay."""

    transaction_id: str
    score: float
    decision: str
    reasons: tuple[str, ...]

    def to_body(self) -> dict[str, Any]:
        return {
            "transaction_id": self.transaction_id,
            "score": self.score,
            "decision": self.decision,
            "reasons": list(self.reasons),
        }


class TransactionStore:
    def __init__(self, client: Any, table_name: str, user_index_name: str) -> None:
        self._client = client
        self._table = table_name
        self._user_index = user_index_name

    def find(self, transaction_id: str) -> Item | None:
        """The stored item of this transaction id, whatever its timestamp (strongly consistent)."""
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="transaction_id = :id",
            ExpressionAttributeValues={":id": {"S": transaction_id}},
            ConsistentRead=True,
            Limit=1,
        )
        items = response.get("Items", [])
        return items[0] if items else None

    def user_history(self, txn: Transaction, limits: HistoryLimits) -> UserHistory:
        """The user's latest transactions up to the transaction's time: one bounded page of the user index."""
        if txn.timestamp is None:
            raise ValueError("the transaction needs its timestamp before its history can be read")
        at_ms = txn.timestamp
        response = self._client.query(
            TableName=self._table,
            IndexName=self._user_index,
            KeyConditionExpression="user_id = :user AND #ts BETWEEN :since AND :until",
            ExpressionAttributeNames={"#ts": "timestamp"},
            ExpressionAttributeValues={
                ":user": {"S": txn.user_id},
                ":since": {"N": str(max(0, at_ms - limits.lookback_hours * _HOUR_MS))},
                ":until": {"N": str(at_ms)},
            },
            ProjectionExpression="transaction_id, #ts, amount, country, merchant_id",
            ScanIndexForward=False,
            Limit=limits.max_items,
        )
        return UserHistory.of(
            PastTransaction(
                timestamp=int(item["timestamp"]["N"]),
                amount=Decimal(item["amount"]["N"]),
                country=item["country"]["S"],
                merchant_id=item["merchant_id"]["S"],
            )
            for item in response.get("Items", [])
            # A retry racing its first attempt may already see that attempt in the index.
            if item["transaction_id"]["S"] != txn.transaction_id
        )

    def insert(self, item: Item) -> bool:
        """Write the item unless this transaction is already stored; False when it was."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(transaction_id)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True


def transaction_item(txn: Transaction, result: ScoreResult, *, shards: int, ttl_days: int) -> Item:
    assert txn.timestamp is not None, "the handler stamps transactions before storing them"
    item: Item = {
        "transaction_id": {"S": txn.transaction_id},
        "timestamp": {"N": str(txn.timestamp)},
        "user_id": {"S": txn.user_id},
        "amount": {"N": format(txn.amount, "f")},
        "currency": {"S": txn.currency},
        "merchant_id": {"S": txn.merchant_id},
        "country": {"S": txn.country},
        "score": {"N": repr(result.score)},
        "decision": {"S": result.decision},
        "reasons": {"L": [{"S": reason} for reason in result.reasons]},
        "time_bucket": {"S": time_bucket(txn.timestamp, txn.transaction_id, shards)},
        "expires_at": {"N": str(txn.timestamp // 1000 + ttl_days * _DAY_SECONDS)},
    }
    if txn.merchant_category is not None:
        item["merchant_category"] = {"S": txn.merchant_category}
    if txn.card_fingerprint is not None:
        item["card_fingerprint"] = {"S": txn.card_fingerprint}
    return item


def stored_result(item: Item) -> StoredResult:
    return StoredResult(
        transaction_id=item["transaction_id"]["S"],
        score=float(item["score"]["N"]),
        decision=item["decision"]["S"],
        reasons=tuple(reason["S"] for reason in item.get("reasons", {}).get("L", [])),
    )


def stored_transaction(item: Item) -> Transaction:
    """The transaction as it was stored, to compare a replayed request with (fraud_scoring.replays)."""
    return Transaction(
        transaction_id=item["transaction_id"]["S"],
        user_id=item["user_id"]["S"],
        amount=Decimal(item["amount"]["N"]),
        currency=item["currency"]["S"],
        merchant_id=item["merchant_id"]["S"],
        country=item["country"]["S"],
        merchant_category=item.get("merchant_category", {}).get("S"),
        timestamp=int(item["timestamp"]["N"]),
        card_fingerprint=item.get("card_fingerprint", {}).get("S"),
    )
