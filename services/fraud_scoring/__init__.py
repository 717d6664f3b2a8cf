"""Fraud scoring core: the transaction contract (validation, timestamp window, replays) and
explainable scoring rules, shared by the container API and the Lambda functions. Pure Python:
nothing here imports an AWS SDK."""

from fraud_scoring.config import ConfigError, Decision, ScoringConfig
from fraud_scoring.replays import ReplayConflict, check_replay, conflicting_fields
from fraud_scoring.scoring import ScoreResult, score_transaction
from fraud_scoring.timestamps import TIMESTAMP_WINDOW, TimestampWindow
from fraud_scoring.transaction import PastTransaction, Transaction, UserHistory
from fraud_scoring.validation import ValidationError, parse_json_body, parse_transaction

__all__ = [
    "TIMESTAMP_WINDOW",
    "ConfigError",
    "Decision",
    "PastTransaction",
    "ReplayConflict",
    "ScoreResult",
    "ScoringConfig",
    "TimestampWindow",
    "Transaction",
    "UserHistory",
    "ValidationError",
    "check_replay",
    "conflicting_fields",
    "parse_json_body",
    "parse_transaction",
    "score_transaction",
]
