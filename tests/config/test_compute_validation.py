"""Compute settings that cannot work are refused before synth, naming the field."""

from __future__ import annotations

import dataclasses

import pytest

from config.environments import build_environments
from config.settings import ConfigError, PeakScaling
from config.validation import validate


@pytest.fixture
def prod():
    return build_environments()["prod"]


def _compute(config, **changes):
    return dataclasses.replace(config, compute=dataclasses.replace(config.compute, **changes))


def test_shipped_environments_scale_and_deploy_as_intended():
    environments = build_environments()
    dev, staging, prod = (environments[name].compute for name in ("dev", "staging", "prod"))
    assert dev.deployment_config_name == "CodeDeployDefault.ECSAllAtOnce"
    assert staging.deployment_config_name == prod.deployment_config_name == "CodeDeployDefault.ECSCanary10Percent5Minutes"
    assert prod.fraud_api_peak is not None and dev.fraud_api_peak is None
    assert prod.fraud_api_log_retention_days >= 365 > dev.fraud_api_log_retention_days
    for compute in (dev, staging, prod):
        assert compute.fraud_api_cpu_target_percent == 70
        assert compute.fraud_api_scale_out_cooldown_seconds < compute.fraud_api_scale_in_cooldown_seconds
        assert 1 <= compute.lambda_reserved_concurrency <= 5


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"fraud_api_scale_out_cooldown_seconds": 600}, "scale out fast, scale in slowly"),
        ({"fraud_api_peak": PeakScaling("cron(0 7 * * ? *)", "cron(0 20 * * ? *)", min_tasks=50)}, "fraud_api_peak.min_tasks"),
        ({"fraud_api_peak": PeakScaling("at 7am", "cron(0 20 * * ? *)", min_tasks=4)}, "fraud_api_peak.start_schedule"),
        ({"deployment_config_name": "CodeDeployDefault.OneAtATime"}, "not a CodeDeploy ECS config"),
        ({"blue_green_termination_wait_minutes": 3000}, "0-2880"),
        ({"rollback_target_5xx_per_minute": 0}, "must be positive"),
        ({"access_log_expiration_days": 30}, "at least 90"),
        ({"fraud_api_log_retention_days": 45}, "CloudWatch Logs accepts only"),
        ({"time_bucket_shards": 0}, "time_bucket_shards"),
        ({"analysis_window_minutes": 2}, "analysis_window_minutes"),
    ],
)
def test_bad_compute_setting_is_refused_by_name(prod, changes, message):
    with pytest.raises(ConfigError, match=message) as raised:
        validate(_compute(prod, **changes))
    assert "environment 'prod'" in str(raised.value)


@pytest.mark.parametrize("name", ["CodeDeployDefault.ECSLinear10PercentEvery1Minutes", "CodeDeployDefault.ECSCanary10Percent15Minutes", "fraud-custom-canary"])
def test_predefined_and_custom_deployment_configs_are_accepted(prod, name):
    validate(_compute(prod, deployment_config_name=name))
