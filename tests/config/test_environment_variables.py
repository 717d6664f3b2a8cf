"""The process environment, read into validated settings and a deployment target."""

from __future__ import annotations

import pytest

from config.environment_variables import DEFAULT_EMULATOR_ENDPOINT, read_environments, read_target
from config.settings import ConfigError


def test_environment_variables_select_and_pin():
    selected = read_environments({"FRAUD_ENVIRONMENTS": "staging", "FRAUD_API_IMAGE": "fraud-api@sha256:" + "a" * 64})
    assert [config.name for config in selected] == ["staging"]
    assert selected[0].compute.fraud_api_image.endswith("a" * 64)
    assert read_target({}).is_emulator is False
    assert read_target({"FRAUD_TARGET": "emulator"}).emulator_endpoint == DEFAULT_EMULATOR_ENDPOINT


def test_an_unknown_target_is_refused_naming_the_choices():
    with pytest.raises(ConfigError, match="FRAUD_TARGET is 'localstack'; use 'aws' or 'emulator'"):
        read_target({"FRAUD_TARGET": "localstack"})
