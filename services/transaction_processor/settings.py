"""What the infrastructure tells the function through its environment."""

from __future__ import annotations

from dataclasses import dataclass

from fraud_scoring.environment import PipelineEnvironment, variable


@dataclass(frozen=True)
class ProcessorSettings(PipelineEnvironment):
    user_index_name: str = variable("USER_INDEX_NAME")
    transaction_ttl_days: int = variable("TRANSACTION_TTL_DAYS", default=90)
