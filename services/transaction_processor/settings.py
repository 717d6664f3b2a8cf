"""What the infrastructure tells the function through its environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from fraud_scoring.environment import PipelineEnvironment, positive_int, required


@dataclass(frozen=True)
class ProcessorSettings:
    pipeline: PipelineEnvironment
    user_index_name: str
    transaction_ttl_days: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ProcessorSettings:
        return cls(
            pipeline=PipelineEnvironment.from_env(env),
            user_index_name=required(env, "USER_INDEX_NAME"),
            transaction_ttl_days=positive_int(env, "TRANSACTION_TTL_DAYS", 90),
        )
