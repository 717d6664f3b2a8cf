"""Builders shared by the scoring core tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fraud_scoring import PastTransaction, Transaction, UserHistory

AT = 1_714_564_800_000  # 2024-05-01T12:00:00Z


def txn(**overrides: Any) -> Transaction:
    fields: dict[str, Any] = {
        "transaction_id": "t-1",
        "user_id": "u-1",
        "amount": Decimal("25.00"),
        "currency": "EUR",
        "merchant_id": "m-1",
        "country": "DE",
        "merchant_category": "5411",
        "timestamp": AT,
    }
    fields.update(overrides)
    if not isinstance(fields["amount"], Decimal):
        fields["amount"] = Decimal(str(fields["amount"]))
    return Transaction(**fields)


def past(seconds_ago: float, amount: str | int = "20", country: str = "DE", merchant: str = "m-1") -> PastTransaction:
    return PastTransaction(
        timestamp=AT - int(seconds_ago * 1000), amount=Decimal(str(amount)), country=country, merchant_id=merchant
    )


def history(*items: PastTransaction) -> UserHistory:
    return UserHistory.of(items)


def familiar(*recent: PastTransaction, typical: str | int = "20") -> UserHistory:
    """A user seen days ago at this merchant and in this country, typically spending `typical`:
    no first-seen or spike signal fires for a transaction like those."""
    return history(*(past(86_400 * days, amount=typical) for days in (3, 2, 1)), *recent)
