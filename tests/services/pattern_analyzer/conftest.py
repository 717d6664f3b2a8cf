from __future__ import annotations

from collections.abc import Iterator

import pytest

from pattern_analyzer import handler as analyzer
from tests.services.aws_fixtures import TIME_WINDOW_INDEX_NAME, AlertsTopic, function_environment


@pytest.fixture
def analyzer_env(monkeypatch: pytest.MonkeyPatch, pipeline_env: AlertsTopic) -> Iterator[AlertsTopic]:
    """The analyzer's environment as the compute stack sets it, with a fresh config cache."""
    variables = {"TIME_WINDOW_INDEX_NAME": TIME_WINDOW_INDEX_NAME, "ANALYSIS_WINDOW_MINUTES": "10"}
    yield from function_environment(monkeypatch, pipeline_env, analyzer, variables)
