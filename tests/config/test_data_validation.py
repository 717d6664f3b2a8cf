"""The data layer's settings: scoring defaults that match the service code, and refused bad values."""

from __future__ import annotations

import dataclasses

import pytest

from config.environments import build_environments
from config.settings import ConfigError, DataSettings, ScoringSettings
from config.validation import validate
from fraud_scoring import ScoringConfig


def test_scoring_defaults_are_the_service_codes_defaults():
    document = ScoringSettings().to_document()
    assert ScoringConfig.from_mapping(document) == ScoringConfig.default()
    # Every key written, so the parameter shows operators the whole configuration.
    assert document == ScoringConfig.default().to_mapping()


def test_an_override_replaces_its_key_of_the_defaults_and_nothing_else():
    defaults = ScoringSettings().to_document()
    document = ScoringSettings(overrides={"review_threshold": 0.4, "high_risk_countries": ("KP",)}).to_document()
    assert document == {**defaults, "review_threshold": 0.4, "high_risk_countries": ["KP"]}
    assert ScoringConfig.from_mapping(document).review_threshold == 0.4


def test_every_environment_ships_a_scoring_config_the_service_accepts():
    for config in build_environments().values():
        ScoringConfig.from_mapping(config.data.scoring.to_document())


def _with_data(**changes):
    config = build_environments()["dev"]
    return dataclasses.replace(config, data=dataclasses.replace(config.data, **changes))


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"aurora_min_capacity_acu": 0.25}, "Aurora capacity"),
        ({"aurora_max_capacity_acu": 4.2}, "steps of 0.5"),
        ({"aurora_engine_version": "16"}, "aurora_engine_version"),
        ({"database_name": "postgres"}, "database_name"),
        ({"master_username": "Admin-User"}, "master_username"),
        ({"preferred_maintenance_window": "sunday 4am"}, "preferred_maintenance_window"),
        ({"preferred_maintenance_window": "mon:03:30-mon:04:30"}, "overlaps"),
        ({"performance_insights_retention_days": 30}, "performance_insights_retention_days"),
        ({"log_retention_days": 42}, "data.log_retention_days"),
        ({"rotation_function_reserved_concurrency": 0}, "rotation_function_reserved_concurrency"),
        ({"kms_deletion_window_days": 3}, "kms_deletion_window_days"),
        ({"secret_recovery_window_days": 3}, r"secret_recovery_window_days must be 0 \(delete at once\) or 7-30"),
        ({"secret_recovery_window_days": 31, "kms_deletion_window_days": 30}, "7-30"),
        # A secret restored after its key is gone cannot be read.
        ({"secret_recovery_window_days": 14, "kms_deletion_window_days": 7}, r"secret_recovery_window_days \(14\) must not exceed data.kms_deletion_window_days \(7\)"),
        ({"scoring": ScoringSettings(overrides={"review_threshold": 0.9, "decline_threshold": 0.8})}, "review_threshold"),
        ({"scoring": ScoringSettings(overrides={"review_threshold": "0.4"})}, "review_threshold"),
        ({"scoring": ScoringSettings(overrides={"reviw_threshold": 0.4})}, r"unknown keys \['reviw_threshold'\]; the keys are those of scoring.defaults.json"),
    ],
)
def test_invalid_data_setting_is_refused_with_a_message_naming_it(changes, message):
    with pytest.raises(ConfigError, match=message):
        validate(_with_data(**changes))


def test_defaults_are_valid():
    validate(_with_data(**{field.name: getattr(DataSettings(), field.name) for field in dataclasses.fields(DataSettings)}))
