"""Combining rule signals into a score and a decision."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fraud_scoring.config import Decision, ScoringConfig
from fraud_scoring.rules import RULES, RuleInput, Signal
from fraud_scoring.transaction import Transaction, UserHistory

SCORE_DECIMALS = 4


@dataclass(frozen=True)
class ScoreResult:
    score: float
    decision: Decision
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "decision": self.decision, "reasons": list(self.reasons)}


def score_transaction(
    txn: Transaction,
    history: UserHistory | None,
    config: ScoringConfig,
    now_ms: int | None = None,
) -> ScoreResult:
    """Score one transaction against the user's history.

    Rules are evaluated at the transaction's own timestamp; `now_ms` stands in when the
    transaction has none. Pass one of them for a reproducible result: only when both are
    missing does this read the clock.

    Signals combine as independent evidence (1 - product of (1 - weight)), so the score stays
    in [0, 1], every firing rule raises it, and no single rule needs to know about the others.
    """
    at_ms = txn.timestamp if txn.timestamp is not None else now_ms
    if at_ms is None:
        at_ms = int(time.time() * 1000)
    past = (history or UserHistory.empty()).up_to(at_ms)
    data = RuleInput(txn=txn, past=past, at_ms=at_ms, config=config)
    signals: list[Signal] = [signal for rule in RULES for signal in rule(data)]

    remaining = 1.0
    for signal in signals:
        remaining *= 1.0 - signal.weight
    # Decide on the rounded score, so the reported score and decision never disagree.
    score = round(min(1.0, max(0.0, 1.0 - remaining)), SCORE_DECIMALS)
    return ScoreResult(
        score=score, decision=config.decide(score), reasons=tuple(s.reason for s in signals if s.weight > 0)
    )
