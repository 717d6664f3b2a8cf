"""The observability settings: the required objectives by default (docs/requirements.md R6.3-R6.6), bad values refused by name."""

from __future__ import annotations

import dataclasses

import pytest

from config.environments import build_environments
from config.settings import ConfigError, ObservabilitySettings
from config.validation import validate


def test_defaults_are_the_required_objectives():
    settings = ObservabilitySettings(alarm_email="oncall@example.com")
    assert settings.api_latency_p99_threshold_ms == 200
    assert settings.aurora_connections_threshold == 80
    assert settings.lambda_error_rate_threshold_percent == 1.0


def test_environments_trace_more_where_traffic_is_small():
    environments = build_environments()
    rates = [environments[name].observability.fraud_path_sampling_rate for name in ("dev", "staging", "prod")]
    assert rates == sorted(rates, reverse=True) and rates[0] == 1.0


def _with_observability(**changes):
    config = build_environments()["dev"]
    return dataclasses.replace(config, observability=dataclasses.replace(config.observability, **changes))


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"alarm_email": "oncall"}, "alarm_email"),
        ({"api_latency_p99_threshold_ms": 0}, "api_latency_p99_threshold_ms"),
        ({"aurora_connections_threshold": -1}, "aurora_connections_threshold"),
        ({"http_5xx_rate_threshold_percent": 100}, "http_5xx_rate_threshold_percent"),
        ({"fraud_path_sampling_rate": 1.5}, "fraud_path_sampling_rate"),
        ({"fraud_path_sampling_reservoir_per_second": -1}, "fraud_path_sampling_reservoir_per_second"),
    ],
)
def test_bad_values_are_refused_naming_the_setting(changes, message):
    with pytest.raises(ConfigError, match=message):
        validate(_with_observability(**changes))
