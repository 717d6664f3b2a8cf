"""Helpers shared by the rotation tests and their fixtures."""

from __future__ import annotations

from typing import Any

from fraud_scoring import ScoringConfig
from secret_rotation import handler as rotation
from tests.services.aws_fixtures import FakeLambdaContext

SECRET_NAME = "fraud-api-config-test"
INITIAL_SIGNING_KEY = "k" * 64  # 48 bytes once decoded


def secret_document(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"signing_key": INITIAL_SIGNING_KEY, "scoring": ScoringConfig.default().to_mapping()}
    document.update(overrides)
    return document


def run_handler(event: dict[str, Any]) -> None:
    rotation.handler(event, FakeLambdaContext(function_name="secret-rotation-test"))
