from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.services.aws_fixtures import USER_INDEX_NAME, AlertsTopic
from transaction_processor import handler as processor


@pytest.fixture
def processor_env(monkeypatch: pytest.MonkeyPatch, pipeline_env: AlertsTopic) -> Iterator[AlertsTopic]:
    """The processor's environment as the compute stack sets it, with a fresh config cache."""
    monkeypatch.setenv("USER_INDEX_NAME", USER_INDEX_NAME)
    monkeypatch.setenv("TRANSACTION_TTL_DAYS", "90")
    processor.scoring_config.invalidate()
    yield pipeline_env
    processor.scoring_config.invalidate()
