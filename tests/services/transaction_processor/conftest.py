from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.services.aws_fixtures import USER_INDEX_NAME, AlertsTopic
from transaction_processor import handler as processor


@pytest.fixture
def processor_env(
    monkeypatch: pytest.MonkeyPatch, transactions_table: str, alerts_topic: AlertsTopic, scoring_parameter: str
) -> Iterator[AlertsTopic]:
    """The processor's environment as the compute stack sets it, with a fresh config cache."""
    monkeypatch.setenv("TRANSACTIONS_TABLE_NAME", transactions_table)
    monkeypatch.setenv("USER_INDEX_NAME", USER_INDEX_NAME)
    monkeypatch.setenv("ALERTS_TOPIC_ARN", alerts_topic.topic_arn)
    monkeypatch.setenv("SCORING_CONFIG_PARAMETER", scoring_parameter)
    monkeypatch.setenv("TIME_BUCKET_SHARDS", "4")
    monkeypatch.setenv("TRANSACTION_TTL_DAYS", "90")
    processor.scoring_config.invalidate()
    yield alerts_topic
    processor.scoring_config.invalidate()
