from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.services.aws_fixtures import USER_INDEX_NAME, AlertsTopic, function_environment
from transaction_processor import handler as processor


@pytest.fixture
def processor_env(monkeypatch: pytest.MonkeyPatch, pipeline_env: AlertsTopic) -> Iterator[AlertsTopic]:
    """The processor's environment as the compute stack sets it, with a fresh config cache."""
    variables = {"USER_INDEX_NAME": USER_INDEX_NAME, "TRANSACTION_TTL_DAYS": "90"}
    yield from function_environment(monkeypatch, pipeline_env, processor, variables)
