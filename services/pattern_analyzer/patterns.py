"""Pattern detection over one analysis window. Pure Python: the handler feeds it what it read.

Each finding names its subject (a user or a merchant) and carries a deterministic id built from
kind and subject only. Consecutive windows overlap, so the same pattern is usually seen twice;
the id is what lets the alert claim suppress the second sighting (see `alerts.py`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median
from typing import Any, Literal

from fraud_scoring.config import PatternThresholds

Severity = Literal["medium", "high"]
SUSPICIOUS_DECISIONS = frozenset({"review", "decline"})
MAX_EVIDENCE = 25  # transaction ids per alert: enough to investigate, small enough for SNS


@dataclass(frozen=True, slots=True)
class WindowTransaction:
    transaction_id: str
    timestamp: int
    user_id: str
    merchant_id: str
    amount: Decimal
    decision: str


@dataclass(frozen=True)
class Finding:
    kind: str  # velocity_burst | suspicious_cluster | amount_spike
    subject_type: str  # user | merchant
    subject: str
    severity: Severity
    summary: str
    evidence: tuple[str, ...]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def finding_id(self) -> str:
        # "#" cannot occur in user or merchant ids (see the transaction schema), so this is unambiguous.
        return f"{self.kind}#{self.subject_type}#{self.subject}"


def find_patterns(transactions: Iterable[WindowTransaction], thresholds: PatternThresholds) -> list[Finding]:
    by_user: dict[str, list[WindowTransaction]] = defaultdict(list)
    suspicious_by_merchant: dict[str, list[WindowTransaction]] = defaultdict(list)
    for txn in transactions:
        by_user[txn.user_id].append(txn)
        if txn.decision in SUSPICIOUS_DECISIONS:
            suspicious_by_merchant[txn.merchant_id].append(txn)

    findings: list[Finding] = []
    for user_id, user_txns in by_user.items():
        user_txns.sort(key=lambda txn: (txn.timestamp, txn.transaction_id))
        findings += _velocity_burst(user_id, user_txns, thresholds)
        findings += _suspicious_cluster(
            "user",
            user_id,
            [t for t in user_txns if t.decision in SUSPICIOUS_DECISIONS],
            thresholds.user_suspicious_min,
        )
        findings += _amount_spike(user_id, user_txns, thresholds)
    for merchant_id, merchant_txns in suspicious_by_merchant.items():
        merchant_txns.sort(key=lambda txn: (txn.timestamp, txn.transaction_id))
        findings += _suspicious_cluster("merchant", merchant_id, merchant_txns, thresholds.merchant_suspicious_min)
    return sorted(findings, key=lambda finding: finding.finding_id)


def _velocity_burst(user_id: str, txns: Sequence[WindowTransaction], thresholds: PatternThresholds) -> list[Finding]:
    """Most transactions of the user within any `burst_window_seconds` span (two pointers over time)."""
    if len(txns) < thresholds.burst_min_transactions:
        return []
    span_ms = thresholds.burst_window_seconds * 1000
    best_start, best_end, start = 0, 0, 0
    for end in range(len(txns)):
        while txns[end].timestamp - txns[start].timestamp >= span_ms:
            start += 1
        if end - start > best_end - best_start:
            best_start, best_end = start, end
    burst = txns[best_start : best_end + 1]
    if len(burst) < thresholds.burst_min_transactions:
        return []
    severity: Severity = "high" if len(burst) >= 2 * thresholds.burst_min_transactions else "medium"
    return [
        Finding(
            kind="velocity_burst",
            subject_type="user",
            subject=user_id,
            severity=severity,
            summary=(
                f"{len(burst)} transactions within {thresholds.burst_window_seconds}s"
                f" (threshold {thresholds.burst_min_transactions})"
            ),
            evidence=_evidence(burst),
            details={"count": len(burst), "first_timestamp": burst[0].timestamp, "last_timestamp": burst[-1].timestamp},
        )
    ]


def _suspicious_cluster(
    subject_type: str, subject: str, suspicious: Sequence[WindowTransaction], minimum: int
) -> list[Finding]:
    if len(suspicious) < minimum:
        return []
    declined = sum(1 for txn in suspicious if txn.decision == "decline")
    severity: Severity = "high" if declined >= minimum else "medium"
    return [
        Finding(
            kind="suspicious_cluster",
            subject_type=subject_type,
            subject=subject,
            severity=severity,
            summary=f"{len(suspicious)} scored review or decline ({declined} declined); threshold {minimum}",
            evidence=_evidence(suspicious),
            details={"count": len(suspicious), "declined": declined, "users": len({txn.user_id for txn in suspicious})},
        )
    ]


def _amount_spike(user_id: str, txns: Sequence[WindowTransaction], thresholds: PatternThresholds) -> list[Finding]:
    if len(txns) < thresholds.spike_min_transactions:
        return []
    typical = median(txn.amount for txn in txns)
    spikes = [txn for txn in txns if txn.amount >= thresholds.spike_multiplier * typical]
    if not spikes:
        return []
    largest = max(spikes, key=lambda txn: (txn.amount, txn.transaction_id))
    return [
        Finding(
            kind="amount_spike",
            subject_type="user",
            subject=user_id,
            severity="medium",
            summary=f"{len(spikes)} transaction(s) at least {thresholds.spike_multiplier}x the user's median {typical}",
            evidence=_evidence(spikes),
            details={
                "median": str(typical),
                "largest_amount": str(largest.amount),
                "largest_transaction_id": largest.transaction_id,
            },
        )
    ]


def _evidence(txns: Sequence[WindowTransaction]) -> tuple[str, ...]:
    return tuple(txn.transaction_id for txn in txns[:MAX_EVIDENCE])
