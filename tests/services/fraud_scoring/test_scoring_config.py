from __future__ import annotations

import dataclasses
import json

import pytest

from fraud_scoring import ConfigError, ScoringConfig
from fraud_scoring.config import DEFAULTS_FILE


def test_defaults_round_trip_through_json() -> None:
    config = ScoringConfig.default()
    assert ScoringConfig.from_json(json.dumps(config.to_mapping())) == config


def test_a_partial_mapping_keeps_the_other_defaults() -> None:
    config = ScoringConfig.from_mapping({"review_threshold": 0.4, "patterns": {"burst_min_transactions": 12}})
    assert config.review_threshold == 0.4
    assert config.patterns.burst_min_transactions == 12
    assert config.decline_threshold == ScoringConfig.default().decline_threshold
    assert config.patterns.burst_window_seconds == ScoringConfig.default().patterns.burst_window_seconds


def test_the_defaults_are_the_whole_defaults_file() -> None:
    # Every key written, so the parameter and the secret seeded from the file show the whole config.
    assert ScoringConfig.default().to_mapping() == json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "mapping, problem",
    [
        ({"review_threshold": 0.9, "decline_threshold": 0.8}, "need 0 < review_threshold < decline_threshold <= 1"),
        ({"review_threshold": 0}, "need 0 < review_threshold"),
        ({"decline_threshold": 1.5}, "decline_threshold=1.5"),
        ({"review_threshold": "0.5"}, "review_threshold: must be a number"),
        ({"review_threshold": True}, "review_threshold: must be a number"),
        ({"reviw_threshold": 0.5}, "unknown keys ['reviw_threshold']"),
        ({"high_risk_country_weight": 1.2}, "high_risk_country_weight: must be between 0 and 1"),
        (
            {"amount_tiers": [{"min_amount": 100, "weight": 0.5}, {"min_amount": 50, "weight": 0.6}]},
            "min_amount must strictly increase",
        ),
        (
            {"amount_tiers": [{"min_amount": 100, "weight": 0.5}, {"min_amount": 500, "weight": 0.2}]},
            "weight must not decrease",
        ),
        ({"amount_tiers": [{"min_amount": 0, "weight": 0.5}]}, "min_amount must be greater than 0"),
        ({"amount_tiers": "high"}, "amount_tiers: must be a JSON array"),
        (
            {"velocity_windows": [{"name": "1m", "seconds": 0, "max_count": 3, "max_amount": 10, "weight": 0.1}]},
            "must be positive",
        ),
        (
            {"velocity_windows": [{"name": "x", "seconds": 60, "max_count": 3, "max_amount": 10, "weight": 0.1}] * 2},
            "names must be unique",
        ),
        (
            {
                "velocity_windows": [{"name": "x", "seconds": 7200, "max_count": 3, "max_amount": 10, "weight": 0.1}],
                "history": {"lookback_hours": 1},
            },
            "must cover the longest velocity window",
        ),
        ({"high_risk_countries": ["kp"]}, "'kp' is not an ISO 3166-1 alpha-2 code"),
        ({"high_risk_merchant_categories": [7995]}, "must be a list of strings"),
        ({"history": {"max_items": 5000}}, "history.max_items: must be between 1 and 1000"),
        ({"patterns": {"burst_min_transactions": 0}}, "patterns.burst_min_transactions: must be at least 1"),
        ({"patterns": {"spike_multiplier": 1}}, "patterns.spike_multiplier: must be greater than 1"),
        ([], "scoring config: must be a JSON object"),
    ],
)
def test_bad_configs_are_refused_with_a_clear_message(mapping: object, problem: str) -> None:
    with pytest.raises(ConfigError) as refused:
        ScoringConfig.from_mapping(mapping)  # type: ignore[arg-type]
    assert problem in str(refused.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as refused:
        ScoringConfig.from_mapping(
            {"review_threshold": 0.9, "decline_threshold": 0.8, "typo": 1, "high_risk_country_weight": -1}
        )
    assert len(refused.value.problems) == 3


def test_invalid_json_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not valid JSON"):
        ScoringConfig.from_json("{review_threshold: 0.5}")


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(ConfigError, match="thresholds"):
        dataclasses.replace(ScoringConfig.default(), review_threshold=0.9, decline_threshold=0.5)
