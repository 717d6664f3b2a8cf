"""What the infrastructure tells the function through its environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from fraud_scoring.environment import positive_int, required


@dataclass(frozen=True)
class ProcessorSettings:
    table_name: str
    user_index_name: str
    alerts_topic_arn: str
    scoring_config_parameter: str
    time_bucket_shards: int
    transaction_ttl_days: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ProcessorSettings:
        return cls(
            table_name=required(env, "TRANSACTIONS_TABLE_NAME"),
            user_index_name=required(env, "USER_INDEX_NAME"),
            alerts_topic_arn=required(env, "ALERTS_TOPIC_ARN"),
            scoring_config_parameter=required(env, "SCORING_CONFIG_PARAMETER"),
            time_bucket_shards=positive_int(env, "TIME_BUCKET_SHARDS", 4),
            transaction_ttl_days=positive_int(env, "TRANSACTION_TTL_DAYS", 90),
        )
