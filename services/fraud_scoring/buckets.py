"""Time buckets of the transactions table's time-window index.

The transaction processor writes `time_bucket` and the pattern analyzer queries it, so both
derive it here. A bucket is one UTC minute split into shards: without the shard, every write of
a busy minute would land on one index partition.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

MINUTE_MS = 60_000


def shard_of(transaction_id: str, shards: int) -> int:
    # crc32, not hash(): Python's str hash is salted per process, and the shard must be stable.
    _require_shards(shards)
    return zlib.crc32(transaction_id.encode("utf-8")) % shards


def minute_label(timestamp_ms: int) -> str:
    minute = datetime.fromtimestamp(timestamp_ms // MINUTE_MS * 60, tz=UTC)
    return minute.strftime("%Y-%m-%dT%H:%M")


def time_bucket(timestamp_ms: int, transaction_id: str, shards: int) -> str:
    return f"{minute_label(timestamp_ms)}#{shard_of(transaction_id, shards)}"


def window_buckets(start_ms: int, end_ms: int, shards: int) -> list[str]:
    """Every bucket that can hold a transaction with start_ms <= timestamp <= end_ms."""
    _require_shards(shards)
    if end_ms < start_ms:
        raise ValueError(f"window ends ({end_ms}) before it starts ({start_ms})")
    first = start_ms // MINUTE_MS
    last = end_ms // MINUTE_MS
    return [
        f"{minute_label(minute * MINUTE_MS)}#{shard}" for minute in range(first, last + 1) for shard in range(shards)
    ]


def _require_shards(shards: int) -> None:
    if shards < 1:
        raise ValueError(f"the number of time bucket shards must be at least 1, got {shards}")
