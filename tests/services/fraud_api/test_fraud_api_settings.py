"""Configuration from the environment ECS provides: defaults, dev mode, and refusals."""

from __future__ import annotations

import json

import pytest

from fraud_api.errors import ConfigurationError
from fraud_api.settings import MigrationSettings, Settings
from fraud_scoring import ScoringConfig

# What the deployed task gets: IAM database authentication and the API-config secret by ARN.
PRODUCTION_ENV = {
    "DB_HOST": "cluster.example.internal",
    "DB_NAME": "fraud",
    "DB_AUTH": "iam",
    "DB_USER": "fraud_api_app",
    "API_CONFIG_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:fraud-api-config-AbCdEf",
    "AWS_REGION": "us-east-1",
}
# Local runs and tests: a password and a fixed API configuration.
LOCAL_ENV = {
    "DB_HOST": "127.0.0.1",
    "DB_NAME": "fraud",
    "DB_AUTH": "password",
    "DB_CREDENTIALS": json.dumps({"username": "app", "password": "s3cret", "host": "ignored"}),
    "API_CONFIG": json.dumps({"signing_key": "k", "scoring": {"review_threshold": 0.4, "decline_threshold": 0.7}}),
}


def _problems(env: dict[str, str], settings: type[Settings] | type[MigrationSettings] = Settings) -> list[str]:
    with pytest.raises(ConfigurationError) as raised:
        settings.from_env(env)
    return raised.value.problems


def test_production_defaults() -> None:
    settings = Settings.from_env(PRODUCTION_ENV)

    assert (settings.host, settings.port) == ("0.0.0.0", 8080)
    assert settings.database.port == 5432
    assert settings.database.sslmode == "require"
    assert (settings.database.login.method, settings.database.login.user) == ("iam", "fraud_api_app")
    assert settings.database.login.credentials is None and settings.database.login.secret_arn is None
    assert settings.api_config.secret_arn == PRODUCTION_ENV["API_CONFIG_SECRET_ARN"]
    assert settings.api_config.fixed is None
    assert (settings.api_config.refresh_interval_s, settings.api_config.key_overlap_s) == (300.0, 3600.0)
    assert settings.xray_daemon_address is None
    assert not settings.dev_mode


def test_a_local_run_with_a_password_and_a_fixed_configuration() -> None:
    settings = Settings.from_env(LOCAL_ENV)

    assert settings.database.login.method == "password"
    assert settings.database.login.user == "app"
    assert settings.api_config.fixed is not None
    assert settings.api_config.fixed.scoring.review_threshold == 0.4
    assert settings.api_config.fixed.scoring.decline_threshold == 0.7


def test_secrets_do_not_leak_into_reprs() -> None:
    settings = Settings.from_env(LOCAL_ENV)

    assert "s3cret" not in repr(settings)
    assert "signing_key='k'" not in repr(settings)


def test_the_database_login_method_is_explicit() -> None:
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "DB_AUTH"}

    assert any(problem.startswith("DB_AUTH must be one of iam, password") for problem in _problems(env))


def test_iam_logins_need_a_user_encryption_and_a_region_and_no_password() -> None:
    env = {
        **PRODUCTION_ENV,
        "DB_USER": "",
        "DB_SSLMODE": "disable",
        "AWS_REGION": "",
        "DB_CREDENTIALS": json.dumps({"username": "u", "password": "p"}),
    }

    problems = "\n".join(_problems(env))

    for expected in ("DB_USER is required", "DB_SSLMODE require", "AWS_REGION is required", "DB_CREDENTIALS is for DB_AUTH=password"):
        assert expected in problems


def test_a_password_login_must_be_for_the_named_user() -> None:
    problems = _problems({**LOCAL_ENV, "DB_USER": "fraud_api_app"})

    assert problems == ["DB_CREDENTIALS logs in as 'app', but DB_USER is 'fraud_api_app'"]


def test_production_refuses_to_run_on_default_thresholds() -> None:
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "API_CONFIG_SECRET_ARN"}

    assert any("API_CONFIG_SECRET_ARN (or API_CONFIG) is required" in problem for problem in _problems(env))


def test_the_configuration_comes_from_one_place() -> None:
    problems = _problems({**PRODUCTION_ENV, "API_CONFIG": LOCAL_ENV["API_CONFIG"]})

    assert problems == ["set API_CONFIG_SECRET_ARN or API_CONFIG, not both"]


def test_production_requires_the_scoring_section_and_signing_key() -> None:
    problems = _problems({**LOCAL_ENV, "API_CONFIG": json.dumps({})})

    assert any("signing_key" in problem for problem in problems)
    assert any("scoring" in problem for problem in problems)


def test_dev_mode_falls_back_to_the_default_scoring_config() -> None:
    settings = Settings.from_env({**LOCAL_ENV, "API_CONFIG": "", "FRAUD_API_DEV_MODE": "1"})

    assert settings.api_config.fixed is not None
    assert settings.api_config.fixed.scoring == ScoringConfig.default()
    assert settings.api_config.fixed.signing_key is None


def test_the_refresh_interval_is_bounded_to_minutes() -> None:
    problems = _problems({**PRODUCTION_ENV, "API_CONFIG_REFRESH_SECONDS": "3600", "SIGNING_KEY_OVERLAP_SECONDS": "-1"})

    assert problems == [
        "API_CONFIG_REFRESH_SECONDS must be between 1 and 900, got 3600.0",
        "SIGNING_KEY_OVERLAP_SECONDS must be between 0 and 86400, got -1.0",
    ]


def test_every_problem_is_reported_at_once() -> None:
    env = {
        "DB_PORT": "five",
        "DB_SSLMODE": "sometimes",
        "DB_AUTH": "password",
        "DB_CREDENTIALS": "{not json",
        "API_CONFIG": json.dumps({"signing_key": "k", "scoring": {"review_threshold": 2, "typo_key": 1}}),
        "DB_POOL_MIN_SIZE": "8",
        "DB_POOL_MAX_SIZE": "4",
    }

    problems = "\n".join(_problems(env))

    for expected in ("DB_HOST", "DB_NAME", "DB_PORT", "DB_SSLMODE", "DB_CREDENTIALS", "typo_key", "thresholds", "DB_POOL_MAX_SIZE"):
        assert expected in problems


def test_password_credentials_may_come_from_the_secret_alone() -> None:
    env = {**LOCAL_ENV, "DB_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"}
    del env["DB_CREDENTIALS"]

    login = Settings.from_env(env).database.login
    assert login.credentials is None and login.secret_arn == env["DB_SECRET_ARN"]


def test_some_source_of_the_password_is_required() -> None:
    env = {key: value for key, value in LOCAL_ENV.items() if key != "DB_CREDENTIALS"}

    assert any("DB_CREDENTIALS or DB_SECRET_ARN" in problem for problem in _problems(env))


def test_the_migration_step_logs_in_as_the_owner_and_provisions_db_user() -> None:
    env = {**PRODUCTION_ENV, "DB_OWNER_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster"}

    settings = MigrationSettings.from_env(env)

    assert settings.database.login.method == "password"
    assert settings.database.login.secret_arn == env["DB_OWNER_SECRET_ARN"]
    assert settings.database.statement_timeout_ms == 0
    assert (settings.application.method, settings.application.user) == ("iam", "fraud_api_app")


def test_the_migration_step_needs_an_owner_that_is_not_the_application_role() -> None:
    assert any("DB_OWNER_CREDENTIALS or DB_OWNER_SECRET_ARN" in p for p in _problems(PRODUCTION_ENV, MigrationSettings))
    same = {**LOCAL_ENV, "DB_OWNER_CREDENTIALS": LOCAL_ENV["DB_CREDENTIALS"]}
    assert "the owner login and DB_USER must be different roles" in _problems(same, MigrationSettings)
