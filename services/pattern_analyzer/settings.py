"""What the infrastructure tells the function through its environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from fraud_scoring.environment import positive_int, required


@dataclass(frozen=True)
class AnalyzerSettings:
    table_name: str
    time_window_index_name: str
    alerts_topic_arn: str
    scoring_config_parameter: str
    time_bucket_shards: int
    analysis_window_minutes: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> AnalyzerSettings:
        return cls(
            table_name=required(env, "TRANSACTIONS_TABLE_NAME"),
            time_window_index_name=required(env, "TIME_WINDOW_INDEX_NAME"),
            alerts_topic_arn=required(env, "ALERTS_TOPIC_ARN"),
            scoring_config_parameter=required(env, "SCORING_CONFIG_PARAMETER"),
            time_bucket_shards=positive_int(env, "TIME_BUCKET_SHARDS", 4),
            # Twice the 5-minute schedule: each run re-reads the previous run's second half, so
            # transactions written late (or a run that failed) are still analysed.
            analysis_window_minutes=positive_int(env, "ANALYSIS_WINDOW_MINUTES", 10),
        )
