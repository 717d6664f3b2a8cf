"""Alerts for transactions scored `review` or `decline`, published to the alerts topic."""

from __future__ import annotations

import json
from typing import Any

from fraud_scoring import ScoreResult, Transaction

SEVERITY_BY_DECISION = {"decline": "high", "review": "medium"}


def needs_alert(result: ScoreResult) -> bool:
    return result.decision in SEVERITY_BY_DECISION


def publish_transaction_alert(sns: Any, topic_arn: str, txn: Transaction, result: ScoreResult) -> str:
    """Publish one alert and return its message id. Carries no card data (PCI DSS scope)."""
    severity = SEVERITY_BY_DECISION[result.decision]
    message = {
        "alert_type": "transaction_scored",
        "transaction_id": txn.transaction_id,
        "user_id": txn.user_id,
        "merchant_id": txn.merchant_id,
        "country": txn.country,
        "amount": format(txn.amount, "f"),
        "currency": txn.currency,
        "timestamp": txn.timestamp,
        "score": result.score,
        "decision": result.decision,
        "severity": severity,
        "reasons": list(result.reasons),
    }
    response = sns.publish(
        TopicArn=topic_arn,
        Subject=f"Fraud alert: transaction {result.decision}",
        Message=json.dumps(message, sort_keys=True),
        MessageAttributes={
            "alert_type": {"DataType": "String", "StringValue": "transaction_scored"},
            "decision": {"DataType": "String", "StringValue": result.decision},
            "severity": {"DataType": "String", "StringValue": severity},
        },
    )
    return str(response["MessageId"])
