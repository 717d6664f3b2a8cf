"""What a repeated transaction id means, on both paths.

`transaction_id` is the idempotency key. The same id with the same content is a retry: it gets
the stored decision back, never a new one (by then the user's history has moved on). The same
id with different content is a conflict (409), whatever the difference: answering it with the
stored, signed decision would let a client pass off a decision made for a small domestic
payment as one made for a large foreign one. Nothing stored is ever overwritten.

A request without a timestamp was stamped by the server, so it matches any stored timestamp; a
retry of it is still recognised.
"""

from __future__ import annotations

from fraud_scoring.transaction import Transaction

# Every field of the request except the id itself; timestamp only when the request has one.
COMPARED_FIELDS = (
    "user_id",
    "amount",
    "currency",
    "merchant_id",
    "country",
    "merchant_category",
    "card_fingerprint",
)


class ReplayConflict(Exception):
    """The transaction id is already stored with other content; `reasons` names each field."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__("transaction_id already stored with different " + ", ".join(fields))
        self.fields = list(fields)
        self.reasons = [
            f"transaction_id: already stored with a different {name}; use a new transaction_id" for name in fields
        ]


def conflicting_fields(stored: Transaction, request: Transaction) -> list[str]:
    """The fields in which `request` differs from what is stored under its transaction id, sorted.

    Amounts compare by value (42.5 and 42.50 are the same amount).
    """
    names = [name for name in COMPARED_FIELDS if getattr(stored, name) != getattr(request, name)]
    if request.timestamp is not None and request.timestamp != stored.timestamp:
        names.append("timestamp")
    return sorted(names)


def check_replay(stored: Transaction, request: Transaction) -> None:
    """Return if `request` is a retry of `stored`; raise ReplayConflict otherwise."""
    conflicts = conflicting_fields(stored, request)
    if conflicts:
        raise ReplayConflict(conflicts)
