"""Configuration from the environment ECS provides: defaults, dev mode, and refusals."""

from __future__ import annotations

import json

import pytest

from fraud_api.errors import ConfigurationError
from fraud_api.settings import Settings
from fraud_scoring import ScoringConfig

PRODUCTION_ENV = {
    "DB_HOST": "cluster.example.internal",
    "DB_NAME": "fraud",
    "DB_CREDENTIALS": json.dumps({"username": "app", "password": "s3cret", "host": "ignored"}),
    "DB_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
    "API_CONFIG": json.dumps({"signing_key": "k", "scoring": {"review_threshold": 0.4, "decline_threshold": 0.7}}),
    "AWS_REGION": "us-east-1",
}


def _problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env(env)
    return raised.value.problems


def test_production_defaults() -> None:
    settings = Settings.from_env(PRODUCTION_ENV)

    assert (settings.host, settings.port) == ("0.0.0.0", 8080)
    assert settings.database.port == 5432
    assert settings.database.sslmode == "require"
    assert settings.database.credentials is not None and settings.database.credentials.username == "app"
    assert settings.api_config.scoring.review_threshold == 0.4
    assert settings.api_config.scoring.decline_threshold == 0.7
    assert settings.xray_daemon_address is None
    assert not settings.dev_mode


def test_secrets_do_not_leak_into_reprs() -> None:
    settings = Settings.from_env(PRODUCTION_ENV)

    assert "s3cret" not in repr(settings)
    assert "signing_key='k'" not in repr(settings)


def test_production_refuses_to_run_on_default_thresholds() -> None:
    problems = _problems({**PRODUCTION_ENV, "API_CONFIG": ""})

    assert any("API_CONFIG is required" in problem for problem in problems)


def test_production_requires_the_scoring_section_and_signing_key() -> None:
    problems = _problems({**PRODUCTION_ENV, "API_CONFIG": json.dumps({})})

    assert any("signing_key" in problem for problem in problems)
    assert any("scoring" in problem for problem in problems)


def test_dev_mode_falls_back_to_the_default_scoring_config() -> None:
    settings = Settings.from_env({**PRODUCTION_ENV, "API_CONFIG": "", "FRAUD_API_DEV_MODE": "1"})

    assert settings.api_config.scoring == ScoringConfig.default()
    assert settings.api_config.signing_key is None


def test_every_problem_is_reported_at_once() -> None:
    env = {
        "DB_PORT": "five",
        "DB_SSLMODE": "sometimes",
        "DB_CREDENTIALS": "{not json",
        "API_CONFIG": json.dumps({"signing_key": "k", "scoring": {"review_threshold": 2, "typo_key": 1}}),
        "DB_POOL_MIN_SIZE": "8",
        "DB_POOL_MAX_SIZE": "4",
    }

    problems = "\n".join(_problems(env))

    for expected in ("DB_HOST", "DB_NAME", "DB_PORT", "DB_SSLMODE", "DB_CREDENTIALS", "typo_key", "thresholds", "DB_POOL_MAX_SIZE"):
        assert expected in problems


def test_credentials_may_come_from_the_secret_alone() -> None:
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "DB_CREDENTIALS"}

    assert Settings.from_env(env).database.credentials is None


def test_some_source_of_credentials_is_required() -> None:
    env = {key: value for key, value in PRODUCTION_ENV.items() if key not in ("DB_CREDENTIALS", "DB_SECRET_ARN")}

    assert any("DB_CREDENTIALS or DB_SECRET_ARN" in problem for problem in _problems(env))
