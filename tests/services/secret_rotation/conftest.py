from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.awslambda.models import LambdaBackend

from tests.services.aws_fixtures import client
from tests.services.secret_rotation.rotation_support import SECRET_NAME, register_rotation_function, secret_document


@pytest.fixture
def api_secret(aws: None) -> str:
    """The API configuration secret, holding a valid value as AWSCURRENT; returns its ARN."""
    return client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=json.dumps(secret_document()))["ARN"]


@pytest.fixture
def rotation_function(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[Callable[[dict[str, Any]], None]], str]]:
    """Registers the rotation function with moto so RotateSecret drives the four steps.

    moto would run a registered function in Docker; instead its invoke is routed to the handler
    in-process (or to a stand-in a test provides). Returns a function that installs a step
    runner and gives the Lambda ARN to pass to RotateSecret.
    """
    arn = register_rotation_function("secret-rotation-test")

    def install(run_step: Callable[[dict[str, Any]], None]) -> str:
        def invoke(
            self: LambdaBackend, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any
        ) -> bytes:
            run_step(json.loads(body))
            return b""

        monkeypatch.setattr(LambdaBackend, "invoke", invoke)
        return arn

    yield install
