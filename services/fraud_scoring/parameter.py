"""The scoring configuration as the pipeline functions read it: the SecureString SSM parameter the
compute layer names in their environment (`SCORING_CONFIG_PARAMETER`)."""

from __future__ import annotations

from typing import Any

from fraud_scoring.cache import TtlCache
from fraud_scoring.config import ScoringConfig
from fraud_scoring.environment import PipelineEnvironment

# How long a warm container keeps the parameter it read: an operator's change reaches every
# pipeline function within five minutes, without a redeploy.
CONFIG_TTL_SECONDS = 300


def scoring_config_from_parameter(ssm: Any, logger: Any) -> ScoringConfig:
    """Read and parse the parameter; the version read is logged, so a change can be traced."""
    name = PipelineEnvironment.from_env().scoring_config_parameter
    parameter = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    config = ScoringConfig.from_json(parameter["Value"])
    logger.info("scoring config loaded", extra={"parameter": name, "version": parameter.get("Version")})
    return config


def cached_scoring_config(ssm: Any, logger: Any) -> TtlCache[ScoringConfig]:
    """The parameter, read on first use and again once CONFIG_TTL_SECONDS have passed."""
    return TtlCache(lambda: scoring_config_from_parameter(ssm, logger), CONFIG_TTL_SECONDS)
