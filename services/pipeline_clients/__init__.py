"""The AWS clients the pipeline functions (transaction_processor, pattern_analyzer) hold at module
level, and the scoring config they read through them.

Not in fraud_scoring: the scoring core stays pure Python (the fraud-api container imports it
without the AWS SDK). Created once per container, so a warm invocation reuses the connections and
reads the SSM parameter once per TTL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from fraud_scoring.cache import TtlCache
from fraud_scoring.config import ScoringConfig
from fraud_scoring.parameter import cached_scoring_config


@dataclass(frozen=True)
class PipelineClients:
    dynamodb: Any
    sns: Any
    ssm: Any
    scoring_config: TtlCache[ScoringConfig]

    @classmethod
    def create(cls, aws_config: Config, logger: Any) -> PipelineClients:
        """Clients with the function's own timeouts and retries (`aws_config`); `logger` records each config read."""
        ssm = boto3.client("ssm", config=aws_config)
        return cls(
            dynamodb=boto3.client("dynamodb", config=aws_config),
            sns=boto3.client("sns", config=aws_config),
            ssm=ssm,
            scoring_config=cached_scoring_config(ssm, logger),
        )
