"""Reading deployment settings from environment variables, failing with the variable's name."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class SettingsError(RuntimeError):
    """A required setting is missing or malformed: a deployment problem, not a request problem."""


def required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} must be set")
    return value


def positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"environment variable {name} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise SettingsError(f"environment variable {name} must be a positive integer, got {value}")
    return value


@dataclass(frozen=True)
class PipelineEnvironment:
    """What the compute layer sets for every pipeline function (components/compute/pipeline_functions.py)."""

    table_name: str
    alerts_topic_arn: str
    scoring_config_parameter: str
    time_bucket_shards: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> PipelineEnvironment:
        return cls(
            table_name=required(env, "TRANSACTIONS_TABLE_NAME"),
            alerts_topic_arn=required(env, "ALERTS_TOPIC_ARN"),
            scoring_config_parameter=required(env, "SCORING_CONFIG_PARAMETER"),
            time_bucket_shards=positive_int(env, "TIME_BUCKET_SHARDS", 4),
        )
