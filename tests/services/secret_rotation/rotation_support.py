"""Helpers shared by the rotation tests and their fixtures."""

from __future__ import annotations

from typing import Any

from fraud_scoring import ScoringConfig
from secret_rotation import handler as rotation
from tests.services.aws_fixtures import FakeLambdaContext, client

SECRET_NAME = "fraud-api-config-test"
INITIAL_SIGNING_KEY = "k" * 64  # 48 bytes once decoded


def secret_document(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"signing_key": INITIAL_SIGNING_KEY, "scoring": ScoringConfig.default().to_mapping()}
    document.update(overrides)
    return document


def register_rotation_function(function_name: str) -> str:
    """A Lambda function moto can call for RotateSecret (the tests route its invocations
    in-process); returns its ARN."""
    role = client("iam").create_role(RoleName=f"{function_name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    return client("lambda").create_function(
        FunctionName=function_name,
        Runtime="python3.11",
        Role=role,
        Handler="secret_rotation.handler.handler",
        Code={"ZipFile": b"unused: invocations are routed in-process"},
    )["FunctionArn"]


def run_handler(event: dict[str, Any]) -> None:
    rotation.handler(event, FakeLambdaContext(function_name="secret-rotation-test"))
