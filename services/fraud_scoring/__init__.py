"""Fraud scoring core: validation and explainable scoring rules, shared by the container API and
the Lambda functions. Pure Python: nothing here imports an AWS SDK."""

from fraud_scoring.config import ConfigError, Decision, ScoringConfig
from fraud_scoring.scoring import ScoreResult, score_transaction
from fraud_scoring.transaction import PastTransaction, Transaction, UserHistory
from fraud_scoring.validation import ValidationError, parse_json_body, parse_transaction

__all__ = [
    "ConfigError",
    "Decision",
    "PastTransaction",
    "ScoreResult",
    "ScoringConfig",
    "Transaction",
    "UserHistory",
    "ValidationError",
    "parse_json_body",
    "parse_transaction",
    "score_transaction",
]
