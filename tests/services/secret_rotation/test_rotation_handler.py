from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from secret_rotation import handler as rotation
from secret_rotation.api_secret import InvalidSecretError, signing_key_bytes, validate
from tests.services.aws_fixtures import client
from tests.services.secret_rotation.rotation_support import INITIAL_SIGNING_KEY, run_handler, secret_document

STEPS = ["createSecret", "setSecret", "testSecret", "finishSecret"]


def stages(secret_id: str) -> dict[str, list[str]]:
    return client("secretsmanager").describe_secret(SecretId=secret_id)["VersionIdsToStages"]


def value(secret_id: str, stage: str) -> dict[str, Any]:
    return json.loads(client("secretsmanager").get_secret_value(SecretId=secret_id, VersionStage=stage)["SecretString"])


def rotate(secret_id: str, lambda_arn: str) -> None:
    client("secretsmanager").rotate_secret(
        SecretId=secret_id, RotationLambdaARN=lambda_arn, RotationRules={"AutomaticallyAfterDays": 30}
    )


def test_a_full_rotation_makes_a_new_valid_value_current(
    api_secret: str, rotation_function: Callable[..., str]
) -> None:
    steps_seen: list[str] = []
    old_version = next(v for v, labels in stages(api_secret).items() if "AWSCURRENT" in labels)

    def run_step(event: dict[str, Any]) -> None:
        steps_seen.append(event["Step"])
        run_handler(event)

    rotate(api_secret, rotation_function(run_step))

    assert steps_seen == STEPS
    current, previous = value(api_secret, "AWSCURRENT"), value(api_secret, "AWSPREVIOUS")
    assert previous == secret_document()
    assert stages(api_secret)[old_version] == ["AWSPREVIOUS"]
    validate(json.dumps(current))
    assert current["signing_key"] != INITIAL_SIGNING_KEY
    assert signing_key_bytes(current["signing_key"]) >= 32
    assert current["scoring"] == previous["scoring"], "rotation changes the key, not the configuration"


def test_a_failing_test_step_leaves_the_current_value_alone(
    api_secret: str, rotation_function: Callable[..., str]
) -> None:
    steps_seen: list[str] = []

    def run_step(event: dict[str, Any]) -> None:
        steps_seen.append(event["Step"])
        if event["Step"] == "createSecret":
            # A broken pending value (short key, bad thresholds) is already staged for this token.
            broken = secret_document(signing_key="short", scoring={"review_threshold": 0.9, "decline_threshold": 0.5})
            client("secretsmanager").put_secret_value(
                SecretId=event["SecretId"],
                ClientRequestToken=event["ClientRequestToken"],
                SecretString=json.dumps(broken),
                VersionStages=["AWSPENDING"],
            )
        run_handler(event)

    with pytest.raises(InvalidSecretError, match="signing_key.*scoring"):
        rotate(api_secret, rotation_function(run_step))

    assert steps_seen == ["createSecret", "setSecret", "testSecret"]
    assert value(api_secret, "AWSCURRENT") == secret_document()


def test_create_secret_is_idempotent(api_secret: str, rotation_function: Callable[..., str]) -> None:
    pending_values: list[str] = []

    def run_step(event: dict[str, Any]) -> None:
        run_handler(event)
        if event["Step"] == "createSecret":
            run_handler(event)  # the service retries a step that timed out
            pending = client("secretsmanager").get_secret_value(
                SecretId=event["SecretId"], VersionId=event["ClientRequestToken"], VersionStage="AWSPENDING"
            )
            pending_values.append(pending["SecretString"])

    rotate(api_secret, rotation_function(run_step))

    assert value(api_secret, "AWSCURRENT") == json.loads(pending_values[0])


def test_a_secret_not_enabled_for_rotation_is_refused(api_secret: str) -> None:
    event = {"SecretId": api_secret, "ClientRequestToken": "a" * 36, "Step": "createSecret"}
    with pytest.raises(rotation.RotationError, match="not enabled for rotation"):
        run_handler(event)


def test_an_unknown_token_is_refused(api_secret: str, rotation_function: Callable[..., str]) -> None:
    rotate(api_secret, rotation_function(run_handler))
    event = {"SecretId": api_secret, "ClientRequestToken": "b" * 36, "Step": "testSecret"}
    with pytest.raises(rotation.RotationError, match="has no stage for rotation"):
        run_handler(event)


def test_a_step_for_the_current_version_does_nothing(api_secret: str, rotation_function: Callable[..., str]) -> None:
    rotate(api_secret, rotation_function(run_handler))
    current_version = next(v for v, labels in stages(api_secret).items() if "AWSCURRENT" in labels)
    before = value(api_secret, "AWSCURRENT")

    for step in STEPS:
        run_handler({"SecretId": api_secret, "ClientRequestToken": current_version, "Step": step})

    assert value(api_secret, "AWSCURRENT") == before


@pytest.mark.parametrize(
    "document, problem",
    [
        ("not json", "not JSON"),
        ([], "JSON object"),
        ({"scoring": {}}, "signing_key: is required"),
        ({"signing_key": "a" * 20, "scoring": {}}, "signing_key: must be URL-safe base64"),
        ({"signing_key": "<script>" * 8, "scoring": {}}, "signing_key: must be URL-safe base64"),
        ({"signing_key": INITIAL_SIGNING_KEY}, "scoring: is required"),
        ({"signing_key": INITIAL_SIGNING_KEY, "scoring": {"review_threshold": 2}}, "scoring: thresholds"),
    ],
)
def test_validation_names_the_problem(document: Any, problem: str) -> None:
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(InvalidSecretError, match=problem):
        validate(text)


def test_an_unknown_step_is_refused(api_secret: str) -> None:
    with pytest.raises(rotation.RotationError, match="unknown rotation step"):
        run_handler({"SecretId": api_secret, "ClientRequestToken": "c" * 36, "Step": "dropSecret"})
