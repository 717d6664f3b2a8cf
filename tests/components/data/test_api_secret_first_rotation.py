"""The API configuration secret as the data stack seeds it becomes usable by its first rotation.

Terraform writes no signing key: it seeds the secret with the scoring thresholds only and
configures rotation with `rotate_immediately`. This runs that first rotation with the real
rotation handler against moto, starting from the seed in the synthesized stack. Later rotations
start from a complete value: tests/services/secret_rotation covers those.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

from stacks.layers import Layer
from tests.fake_aws import FAKE_AWS_ENVIRONMENT


@pytest.fixture
def moto_rotation(monkeypatch):
    """A moto account whose rotation Lambda runs services/secret_rotation in-process."""
    for name, value in FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    # Imported here, under fake credentials: the handler creates its client on import.
    aws_fixtures = importlib.import_module("tests.services.aws_fixtures")
    rotation_support = importlib.import_module("tests.services.secret_rotation.rotation_support")
    from moto import mock_aws
    from moto.awslambda.models import LambdaBackend

    def invoke(self, function_name, qualifier, body, headers, response_headers):
        rotation_support.run_handler(json.loads(body))
        return b""

    monkeypatch.setattr(LambdaBackend, "invoke", invoke)
    with mock_aws():
        function_arn = rotation_support.register_rotation_function("fraud-secret-rotation-test")
        yield aws_fixtures.client("secretsmanager"), function_arn


def _current(secretsmanager, secret_id: str) -> dict[str, Any]:
    return json.loads(secretsmanager.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")["SecretString"])


def test_first_rotation_turns_the_seed_into_a_usable_secret(synthesis, moto_rotation):
    from secret_rotation.api_secret import InvalidSecretError, validate

    secretsmanager, function_arn = moto_rotation
    (seed,) = synthesis.stack(Layer.DATA, "dev").resources("aws_secretsmanager_secret_version").values()
    (rotation,) = [
        body for body in synthesis.stack(Layer.DATA, "dev").resources("aws_secretsmanager_secret_rotation").values()
        if "rotation_lambda_arn" in body
    ]
    secret = secretsmanager.create_secret(Name="fraud-api-config-test", SecretString=seed["secret_string"])["ARN"]
    with pytest.raises(InvalidSecretError, match="signing_key"):
        validate(seed["secret_string"])  # the seed alone is not usable: no signing key yet

    secretsmanager.rotate_secret(
        SecretId=secret,
        RotationLambdaARN=function_arn,
        RotationRules={"AutomaticallyAfterDays": rotation["rotation_rules"]["automatically_after_days"]},
        RotateImmediately=rotation["rotate_immediately"],
    )
    first = _current(secretsmanager, secret)
    validate(json.dumps(first))
    assert first["scoring"] == json.loads(seed["secret_string"])["scoring"]
