"""Reading exactly one analysis window from the time-window index.

Each (minute, shard) bucket of the window is one Query with a `timestamp BETWEEN` condition,
followed page by page; nothing outside the window is read, and the table is never scanned. The
buckets are independent, so they are queried concurrently: the run is bound by round trips.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fraud_scoring.buckets import window_buckets
from pattern_analyzer.patterns import WindowTransaction

# Only what detection needs: a smaller projection is fewer bytes to transfer and parse.
_PROJECTION = "transaction_id, #ts, user_id, merchant_id, amount, decision"
MAX_CONCURRENT_QUERIES = 16


@dataclass(frozen=True)
class Window:
    start_ms: int
    end_ms: int


@dataclass
class ReadStats:
    """What DynamoDB reported for the window's queries, summed: proof of how much was read."""

    queries: int = 0
    pages: int = 0
    scanned_count: int = 0
    count: int = 0

    def add(self, other: ReadStats) -> None:
        self.queries += other.queries
        self.pages += other.pages
        self.scanned_count += other.scanned_count
        self.count += other.count


class WindowReader:
    def __init__(self, client: Any, table_name: str, index_name: str, shards: int) -> None:
        self._client = client
        self._table = table_name
        self._index = index_name
        self._shards = shards

    def read(self, window: Window) -> tuple[list[WindowTransaction], ReadStats]:
        buckets = window_buckets(window.start_ms, window.end_ms, self._shards)
        workers = max(1, min(MAX_CONCURRENT_QUERIES, len(buckets)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="window-query") as executor:
            results = list(executor.map(lambda bucket: self._read_bucket(bucket, window), buckets))
        transactions: list[WindowTransaction] = []
        stats = ReadStats()
        for bucket_transactions, bucket_stats in results:
            transactions += bucket_transactions
            stats.add(bucket_stats)
        return transactions, stats

    def _read_bucket(self, bucket: str, window: Window) -> tuple[list[WindowTransaction], ReadStats]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": self._index,
            "KeyConditionExpression": "time_bucket = :bucket AND #ts BETWEEN :start AND :end",
            "ProjectionExpression": _PROJECTION,
            "ExpressionAttributeNames": {"#ts": "timestamp"},
            "ExpressionAttributeValues": {
                ":bucket": {"S": bucket},
                ":start": {"N": str(window.start_ms)},
                ":end": {"N": str(window.end_ms)},
            },
        }
        transactions: list[WindowTransaction] = []
        stats = ReadStats(queries=1)
        while True:
            page = self._client.query(**request)
            stats.pages += 1
            stats.scanned_count += page.get("ScannedCount", 0)
            stats.count += page.get("Count", 0)
            transactions += [_window_transaction(item) for item in page.get("Items", [])]
            last_key = page.get("LastEvaluatedKey")
            if not last_key:
                return transactions, stats
            request["ExclusiveStartKey"] = last_key


def _window_transaction(item: dict[str, dict[str, str]]) -> WindowTransaction:
    return WindowTransaction(
        transaction_id=item["transaction_id"]["S"],
        timestamp=int(item["timestamp"]["N"]),
        user_id=item["user_id"]["S"],
        merchant_id=item["merchant_id"]["S"],
        amount=Decimal(item["amount"]["N"]),
        decision=item["decision"]["S"],
    )
