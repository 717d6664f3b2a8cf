"""Transactions for the services tests: valid for both entry points (fraud-api and the
transaction processor) by default, unique per call."""

from __future__ import annotations

import time
import uuid
from typing import Any


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def unique_id(prefix: str = "txn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


def transaction(**overrides: Any) -> dict[str, Any]:
    """A valid transaction, timestamped a second ago; an override of `...` leaves that field out."""
    payload: dict[str, Any] = {
        "transaction_id": unique_id(),
        "user_id": unique_id("user"),
        "amount": 42.5,
        "currency": "EUR",
        "merchant_id": "merchant-1",
        "country": "DE",
        "merchant_category": "5411",
        "timestamp": now_ms() - 1_000,
        "card_fingerprint": "fp_abc123",
    }
    payload.update(overrides)
    return {name: value for name, value in payload.items() if value is not ...}
