"""The pipeline functions' clients: the function's own timeouts on every client, and the scoring
config read through SSM once per TTL, not once per invocation."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from botocore.config import Config

from fraud_scoring import ScoringConfig
from pipeline_clients import PipelineClients
from tests.services.aws_fixtures import REGION, put_scoring_parameter


def test_clients_take_the_functions_config_and_read_the_parameter_once_per_ttl(pipeline_env, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    clients = PipelineClients.create(Config(connect_timeout=1, read_timeout=2), Logger(service="test"))
    for client in (clients.dynamodb, clients.sns, clients.ssm):
        assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (1, 2)
    first = clients.scoring_config.get()
    assert first == ScoringConfig.default()
    put_scoring_parameter({"decline_threshold": 0.9})
    assert clients.scoring_config.get() is first, "read again before the TTL passed"
    clients.scoring_config.invalidate()
    assert clients.scoring_config.get() != first
