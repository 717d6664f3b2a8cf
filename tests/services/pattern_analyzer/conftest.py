from __future__ import annotations

from collections.abc import Iterator

import pytest

from pattern_analyzer import handler as analyzer
from tests.services.aws_fixtures import TIME_WINDOW_INDEX_NAME, AlertsTopic


@pytest.fixture
def analyzer_env(monkeypatch: pytest.MonkeyPatch, pipeline_env: AlertsTopic) -> Iterator[AlertsTopic]:
    """The analyzer's environment as the compute stack sets it, with a fresh config cache."""
    monkeypatch.setenv("TIME_WINDOW_INDEX_NAME", TIME_WINDOW_INDEX_NAME)
    monkeypatch.setenv("ANALYSIS_WINDOW_MINUTES", "10")
    analyzer.scoring_config.invalidate()
    yield pipeline_env
    analyzer.scoring_config.invalidate()
