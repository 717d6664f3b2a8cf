"""The explainable rules. Each looks at one aspect of the transaction and, when it fires,
returns a Signal: a weight from the config and a reason a human can read.

Reasons start with a stable code (`high_amount`, `velocity_1m`, ...) so dashboards and the
alert consumers can group by it; the rest of the reason is for people.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from statistics import median

from fraud_scoring.config import ScoringConfig
from fraud_scoring.transaction import PastTransaction, Transaction


@dataclass(frozen=True)
class Signal:
    weight: float
    reason: str


@dataclass(frozen=True)
class RuleInput:
    txn: Transaction
    past: Sequence[PastTransaction]  # the user's history at or before `at_ms`, oldest first
    at_ms: int
    config: ScoringConfig


Rule = Callable[[RuleInput], list[Signal]]


def amount_tier(data: RuleInput) -> list[Signal]:
    reached = [tier for tier in data.config.amount_tiers if data.txn.amount >= tier.min_amount]
    if not reached:
        return []
    tier = reached[-1]
    return [
        Signal(
            tier.weight,
            f"high_amount: {_money(data.txn.amount)} {data.txn.currency} is at or above {_money(tier.min_amount)}",
        )
    ]


def velocity(data: RuleInput) -> list[Signal]:
    signals = []
    for window in data.config.velocity_windows:
        since = data.at_ms - window.seconds * 1000
        recent = [past for past in data.past if past.timestamp > since]
        # The transaction being scored counts towards its own window.
        count = len(recent) + 1
        total = sum((past.amount for past in recent), data.txn.amount)
        exceeded = []
        if count > window.max_count:
            exceeded.append(f"{count} transactions > {window.max_count}")
        # A lone transaction is not velocity; large single amounts are the amount rules' job.
        if recent and total > window.max_amount:
            exceeded.append(f"total {_money(total)} > {_money(window.max_amount)}")
        if exceeded:
            signals.append(
                Signal(window.weight, f"velocity_{window.name}: {' and '.join(exceeded)} within {window.seconds}s")
            )
    return signals


def high_risk_country(data: RuleInput) -> list[Signal]:
    country = data.txn.country
    reason = f"high_risk_country: {country} is on the high-risk country list"
    return _if_listed(country, data.config.high_risk_countries, data.config.high_risk_country_weight, reason)


def high_risk_merchant_category(data: RuleInput) -> list[Signal]:
    category = data.txn.merchant_category
    reason = f"high_risk_merchant_category: MCC {category} is on the high-risk list"
    return _if_listed(category, data.config.high_risk_merchant_categories, data.config.high_risk_merchant_category_weight, reason)


def _if_listed(value: str | None, high_risk: frozenset[str], weight: float, reason: str) -> list[Signal]:
    """The list's signal when `value` is on it (an absent value never is)."""
    return [Signal(weight, reason)] if value is not None and value in high_risk else []


def first_seen(data: RuleInput) -> list[Signal]:
    weights = data.config.first_seen
    if not data.past:
        return [
            Signal(weights.first_transaction, "first_transaction: no earlier transaction of this user in the lookback")
        ]
    signals = []
    if all(past.country != data.txn.country for past in data.past):
        signals.append(
            Signal(weights.new_country, f"new_country: first transaction of this user in {data.txn.country}")
        )
    if all(past.merchant_id != data.txn.merchant_id for past in data.past):
        signals.append(Signal(weights.new_merchant, "new_merchant: first transaction of this user at this merchant"))
    return signals


def amount_spike(data: RuleInput) -> list[Signal]:
    spike = data.config.amount_spike
    if len(data.past) < spike.min_history:
        return []
    typical = median(past.amount for past in data.past)
    if data.txn.amount < spike.multiplier * typical:
        return []
    return [
        Signal(
            spike.weight,
            f"amount_spike: {_money(data.txn.amount)} is at least {spike.multiplier}x"
            f" the user's median {_money(typical)}",
        )
    ]


# Order is the order reasons are reported in.
RULES: tuple[Rule, ...] = (
    amount_tier,
    amount_spike,
    velocity,
    high_risk_country,
    high_risk_merchant_category,
    first_seen,
)


def _money(amount: Decimal) -> str:
    return format(amount.quantize(Decimal("0.01")), "f")
