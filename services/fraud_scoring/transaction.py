"""The transaction the platform scores, and the user's recent history it is scored against."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Transaction:
    """A validated transaction request (build it with `fraud_scoring.validation.parse_transaction`).

    `amount` is a Decimal so money is never rounded through binary floats; `timestamp` is epoch
    milliseconds and is None when the client did not send one (the caller fills it in).
    """

    transaction_id: str
    user_id: str
    amount: Decimal
    currency: str
    merchant_id: str
    country: str
    merchant_category: str | None = None
    timestamp: int | None = None
    card_fingerprint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly mapping without unset optional fields (amount as a string, exact)."""
        fields = asdict(self)
        fields["amount"] = format(self.amount, "f")
        return {name: value for name, value in fields.items() if value is not None}


@dataclass(frozen=True)
class PastTransaction:
    """What scoring needs to know about one earlier transaction of the same user."""

    timestamp: int
    amount: Decimal
    country: str
    merchant_id: str


@dataclass(frozen=True)
class UserHistory:
    """The user's recent transactions, as far back as the caller chose to look (bounded).

    First-seen signals are relative to this history: "first transaction" means "none in the
    history the caller loaded", so callers should load a long enough lookback.
    """

    transactions: tuple[PastTransaction, ...] = ()

    @classmethod
    def of(cls, transactions: Iterable[PastTransaction]) -> UserHistory:
        return cls(tuple(sorted(transactions, key=lambda past: past.timestamp)))

    @classmethod
    def empty(cls) -> UserHistory:
        return cls(())

    def up_to(self, at_ms: int) -> tuple[PastTransaction, ...]:
        """Transactions at or before `at_ms`: later ones cannot inform a decision made at `at_ms`."""
        return tuple(past for past in self.transactions if past.timestamp <= at_ms)

    def __len__(self) -> int:
        return len(self.transactions)
