from __future__ import annotations

from collections.abc import Iterator

import pytest

from pattern_analyzer import handler as analyzer
from tests.services.aws_fixtures import TIME_WINDOW_INDEX_NAME, AlertsTopic


@pytest.fixture
def analyzer_env(
    monkeypatch: pytest.MonkeyPatch, transactions_table: str, alerts_topic: AlertsTopic, scoring_parameter: str
) -> Iterator[AlertsTopic]:
    """The analyzer's environment as the compute stack sets it, with a fresh config cache."""
    monkeypatch.setenv("TRANSACTIONS_TABLE_NAME", transactions_table)
    monkeypatch.setenv("TIME_WINDOW_INDEX_NAME", TIME_WINDOW_INDEX_NAME)
    monkeypatch.setenv("ALERTS_TOPIC_ARN", alerts_topic.topic_arn)
    monkeypatch.setenv("SCORING_CONFIG_PARAMETER", scoring_parameter)
    monkeypatch.setenv("TIME_BUCKET_SHARDS", "4")
    monkeypatch.setenv("ANALYSIS_WINDOW_MINUTES", "10")
    analyzer.scoring_config.invalidate()
    yield alerts_topic
    analyzer.scoring_config.invalidate()
