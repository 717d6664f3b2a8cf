"""Entry point `pattern_analyzer.handler.handler` (EventBridge schedule, every 5 minutes)."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

from fraud_scoring.parameter import cached_scoring_config
from pattern_analyzer.alerts import FindingPublisher
from pattern_analyzer.patterns import find_patterns
from pattern_analyzer.settings import AnalyzerSettings
from pattern_analyzer.window import MAX_CONCURRENT_QUERIES, Window, WindowReader

# Powertools Logger but not Tracer: aws-xray-sdk adds ~150 ms to every cold start (measured in
# services/README.md); the X-Ray segments come from the function's active tracing instead.
logger = Logger(service="pattern-analyzer")

# The window is read by concurrent queries; the connection pool must not make them queue.
_AWS_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 5},
    max_pool_connections=MAX_CONCURRENT_QUERIES,
)
dynamodb = boto3.client("dynamodb", config=_AWS_CONFIG)
sns = boto3.client("sns", config=_AWS_CONFIG)
ssm = boto3.client("ssm", config=_AWS_CONFIG)


scoring_config = cached_scoring_config(ssm, logger)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Analyse the window ending at the scheduled time; errors propagate so the invocation is retried."""
    settings = AnalyzerSettings.from_env()
    thresholds = scoring_config.get().patterns
    end_ms = _scheduled_time_ms(event)
    window = Window(start_ms=end_ms - settings.analysis_window_minutes * 60_000, end_ms=end_ms)

    started = time.perf_counter()
    reader = WindowReader(dynamodb, settings.table_name, settings.time_window_index_name, settings.time_bucket_shards)
    transactions, stats = reader.read(window)
    read_seconds = time.perf_counter() - started
    findings = find_patterns(transactions, thresholds)
    publisher = FindingPublisher(dynamodb, sns, settings.table_name, settings.alerts_topic_arn)
    outcome = publisher.publish(findings, window, thresholds.max_alerts_per_run)

    summary = {
        "window_start": window.start_ms,
        "window_end": window.end_ms,
        "items_read": stats.count,
        "scanned_count": stats.scanned_count,
        "queries": stats.queries,
        "pages": stats.pages,
        "findings": len(findings),
        **asdict(outcome),
        "read_seconds": round(read_seconds, 3),
        "total_seconds": round(time.perf_counter() - started, 3),
    }
    logger.info("pattern analysis finished", extra=summary)
    return summary


def _scheduled_time_ms(event: dict[str, Any]) -> int:
    # The schedule's own time, not the clock: a retried invocation re-analyses the same window.
    scheduled = event.get("time") if isinstance(event, dict) else None
    if scheduled:
        return int(datetime.fromisoformat(scheduled.replace("Z", "+00:00")).timestamp() * 1000)
    return int(time.time() * 1000)
