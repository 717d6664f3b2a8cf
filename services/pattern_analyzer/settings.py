"""What the infrastructure tells the function through its environment."""

from __future__ import annotations

from dataclasses import dataclass

from fraud_scoring.environment import PipelineEnvironment, variable


@dataclass(frozen=True)
class AnalyzerSettings(PipelineEnvironment):
    time_window_index_name: str = variable("TIME_WINDOW_INDEX_NAME")
    # Twice the 5-minute schedule: each run re-reads the previous run's second half, so
    # transactions written late (or a run that failed) are still analysed.
    analysis_window_minutes: int = variable("ANALYSIS_WINDOW_MINUTES", default=10)
