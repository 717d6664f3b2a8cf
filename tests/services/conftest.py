"""Shared fixtures for the services tests (the fraud_api tests reuse them): moto-backed AWS
resources shaped like the ones the data and edge stacks declare. See aws_fixtures.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from fraud_scoring import ScoringConfig
from tests.services.aws_fixtures import (
    AlertsTopic,
    FakeLambdaContext,
    create_alerts_topic,
    create_transactions_table,
    put_scoring_parameter,
    restore_environment,
)


def pytest_collection_finish(session: pytest.Session) -> None:
    # Every handler module (and its clients) has been imported by now; see aws_fixtures.
    restore_environment()


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def transactions_table(aws: None) -> str:
    return create_transactions_table()


@pytest.fixture
def alerts_topic(aws: None) -> AlertsTopic:
    return create_alerts_topic()


@pytest.fixture
def scoring_parameter(aws: None) -> str:
    """The scoring config as a SecureString parameter, holding the default config."""
    return put_scoring_parameter(ScoringConfig.default())


@pytest.fixture
def pipeline_env(
    monkeypatch: pytest.MonkeyPatch, transactions_table: str, alerts_topic: AlertsTopic, scoring_parameter: str
) -> AlertsTopic:
    """What the compute layer sets for every pipeline function (fraud_scoring.environment.PipelineEnvironment)."""
    monkeypatch.setenv("TRANSACTIONS_TABLE_NAME", transactions_table)
    monkeypatch.setenv("ALERTS_TOPIC_ARN", alerts_topic.topic_arn)
    monkeypatch.setenv("SCORING_CONFIG_PARAMETER", scoring_parameter)
    monkeypatch.setenv("TIME_BUCKET_SHARDS", "4")
    return alerts_topic
