"""Reading deployment settings from environment variables, failing with the variable's name."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar


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


def variable(name: str, *, default: int | None = None) -> Any:
    """A settings field read from the environment variable `name`: required text, or with a
    `default`, a positive integer (`from_env` reads it)."""
    return field(metadata={"variable": name, "default": default})


S = TypeVar("S", bound="PipelineEnvironment")


@dataclass(frozen=True)
class PipelineEnvironment:
    """What the compute layer sets for every pipeline function (components/compute/pipeline_functions.py);
    a function's own settings extend it with the variables it alone gets."""

    table_name: str = variable("TRANSACTIONS_TABLE_NAME")
    alerts_topic_arn: str = variable("ALERTS_TOPIC_ARN")
    scoring_config_parameter: str = variable("SCORING_CONFIG_PARAMETER")
    time_bucket_shards: int = variable("TIME_BUCKET_SHARDS", default=4)

    @classmethod
    def from_env(cls: type[S], env: Mapping[str, str] = os.environ) -> S:
        values = {}
        for setting in fields(cls):
            name, default = setting.metadata["variable"], setting.metadata["default"]
            values[setting.name] = required(env, name) if default is None else positive_int(env, name, default)
        return cls(**values)
