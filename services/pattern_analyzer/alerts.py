"""Publishing findings at most once per pattern episode.

Consecutive windows overlap, and a failed run is retried, so the same finding is seen more than
once. Before publishing, a run claims the finding with a conditional put of a marker item in the
transactions table (`transaction_id = "finding#<id>"`, `timestamp = 0`, no `time_bucket`, so it
stays out of both indexes). The claim holds until `alert_until`, one analysis window after the
run: every later run that can still see the same transactions is suppressed, while a pattern
that persists beyond that is alerted again as a new episode. A marker id that also encoded time
could not do this: where an episode starts depends on where each window cuts it.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from pattern_analyzer.patterns import Finding
from pattern_analyzer.window import Window

MARKER_PREFIX = "finding#"
MARKER_RETENTION_SECONDS = 86_400


@dataclass
class PublishOutcome:
    alerts_published: int = 0
    duplicates_suppressed: int = 0
    alerts_deferred: int = 0


class FindingPublisher:
    def __init__(self, dynamodb: Any, sns: Any, table_name: str, topic_arn: str) -> None:
        self._dynamodb = dynamodb
        self._sns = sns
        self._table = table_name
        self._topic = topic_arn

    def publish(self, findings: list[Finding], window: Window, max_alerts: int) -> PublishOutcome:
        outcome = PublishOutcome()
        # Most severe first, so a storm capped by max_alerts still reports what matters most.
        ordered = sorted(findings, key=lambda finding: (finding.severity != "high", finding.finding_id))
        for finding in ordered:
            if outcome.alerts_published >= max_alerts:
                # Not claimed: the next run, whose window overlaps, will see and alert it.
                outcome.alerts_deferred += 1
                continue
            token = self._claim(finding, window)
            if token is None:
                outcome.duplicates_suppressed += 1
                continue
            try:
                self._send(finding, window)
            except Exception:
                self._release(finding, token)
                raise
            outcome.alerts_published += 1
        return outcome

    def _claim(self, finding: Finding, window: Window) -> str | None:
        now_seconds = window.end_ms // 1000
        alert_until = (window.end_ms + (window.end_ms - window.start_ms)) // 1000
        token = uuid.uuid4().hex
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "transaction_id": {"S": MARKER_PREFIX + finding.finding_id},
                    "timestamp": {"N": "0"},
                    "expires_at": {"N": str(now_seconds + MARKER_RETENTION_SECONDS)},
                    "alert_until": {"N": str(alert_until)},
                    "claim_token": {"S": token},
                    "severity": {"S": finding.severity},
                    "summary": {"S": finding.summary},
                },
                ConditionExpression="attribute_not_exists(transaction_id) OR alert_until < :now",
                ExpressionAttributeValues={":now": {"N": str(now_seconds)}},
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return None
        return token

    def _release(self, finding: Finding, token: str) -> None:
        """Undo our own claim after a failed publish, so the next run can alert."""
        with contextlib.suppress(self._dynamodb.exceptions.ConditionalCheckFailedException):
            self._dynamodb.delete_item(
                TableName=self._table,
                Key={"transaction_id": {"S": MARKER_PREFIX + finding.finding_id}, "timestamp": {"N": "0"}},
                ConditionExpression="claim_token = :token",
                ExpressionAttributeValues={":token": {"S": token}},
            )

    def _send(self, finding: Finding, window: Window) -> None:
        message = {
            "alert_type": "pattern_finding",
            "finding_id": finding.finding_id,
            "kind": finding.kind,
            "subject_type": finding.subject_type,
            "subject": finding.subject,
            "severity": finding.severity,
            "summary": finding.summary,
            "evidence_transaction_ids": list(finding.evidence),
            "details": finding.details,
            "window_start": window.start_ms,
            "window_end": window.end_ms,
        }
        self._sns.publish(
            TopicArn=self._topic,
            Subject=f"Fraud pattern: {finding.kind} ({finding.severity})",
            Message=json.dumps(message, sort_keys=True, default=str),
            MessageAttributes={
                "alert_type": {"DataType": "String", "StringValue": "pattern_finding"},
                "finding_kind": {"DataType": "String", "StringValue": finding.kind},
                "severity": {"DataType": "String", "StringValue": finding.severity},
            },
        )
