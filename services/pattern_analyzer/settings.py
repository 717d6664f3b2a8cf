"""What the infrastructure tells the function through its environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from fraud_scoring.environment import PipelineEnvironment, positive_int, required


@dataclass(frozen=True)
class AnalyzerSettings:
    pipeline: PipelineEnvironment
    time_window_index_name: str
    analysis_window_minutes: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> AnalyzerSettings:
        return cls(
            pipeline=PipelineEnvironment.from_env(env),
            time_window_index_name=required(env, "TIME_WINDOW_INDEX_NAME"),
            # Twice the 5-minute schedule: each run re-reads the previous run's second half, so
            # transactions written late (or a run that failed) are still analysed.
            analysis_window_minutes=positive_int(env, "ANALYSIS_WINDOW_MINUTES", 10),
        )
