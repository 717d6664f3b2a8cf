"""Request payloads for the fraud-api tests: valid by default, unique per call."""

from __future__ import annotations

import uuid
from typing import Any

BASE_TIMESTAMP_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def unique_id(prefix: str = "txn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


def transaction(**overrides: Any) -> dict[str, Any]:
    """A valid transaction; an override of `...` leaves that field out."""
    payload: dict[str, Any] = {
        "transaction_id": unique_id(),
        "user_id": unique_id("user"),
        "amount": 42.5,
        "currency": "EUR",
        "merchant_id": "merchant-1",
        "country": "DE",
        "merchant_category": "5411",
        "timestamp": BASE_TIMESTAMP_MS,
        "card_fingerprint": "fp_abc123",
    }
    payload.update(overrides)
    return {name: value for name, value in payload.items() if value is not ...}
