"""Entry point `secret_rotation.handler.handler`: Secrets Manager rotation of the API config secret.

Secrets Manager calls the function four times per rotation, with the same ClientRequestToken (the
id of the new version) and a different Step. A step may be called again with the same token
(after a failure or a timeout), so every step first checks what an earlier call already did. The
guard at the top follows AWS's rotation templates: refuse secrets not enabled for rotation and
tokens that are not the pending version.

Who sees the new key, and when: nothing is pushed anywhere. Running fraud-api tasks re-read
AWSCURRENT every API_CONFIG_REFRESH_SECONDS (5 minutes by default; services/fraud_api/
api_config.py), so within one refresh after finishSecret every response is signed with the new
key, without a restart; for SIGNING_KEY_OVERLAP_SECONDS (an hour) after this version was
created they also sign with the AWSPREVIOUS key, so consumers verifying signatures have time to
read the new key from this secret. No Lambda reads this secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

from secret_rotation.api_secret import rotated, validate

# Powertools Logger but not Tracer: aws-xray-sdk adds ~150 ms to every cold start (measured in
# services/README.md); the X-Ray segments come from the function's active tracing instead.
logger = Logger(service="secret-rotation")

secretsmanager = boto3.client("secretsmanager", config=Config(retries={"mode": "standard", "max_attempts": 5}))

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"


class RotationError(RuntimeError):
    """The rotation cannot proceed; Secrets Manager records the failure and leaves AWSCURRENT alone."""


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> None:
    secret_id, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    logger.append_keys(secret_id=secret_id, version_id=token, step=step)
    if step not in STEPS:
        raise RotationError(f"unknown rotation step {step!r}; expected one of {sorted(STEPS)}")

    metadata = secretsmanager.describe_secret(SecretId=secret_id)
    if not metadata.get("RotationEnabled"):
        raise RotationError(f"secret {secret_id} is not enabled for rotation")
    stages = metadata.get("VersionIdsToStages", {})
    if token not in stages:
        raise RotationError(f"secret version {token} has no stage for rotation of secret {secret_id}")
    if CURRENT in stages[token]:
        logger.info("version is already AWSCURRENT; nothing to do")
        return
    if PENDING not in stages[token]:
        raise RotationError(f"secret version {token} is not set as AWSPENDING for rotation of secret {secret_id}")

    STEPS[step](secret_id, token)
    logger.info("rotation step done")


def create_secret(secret_id: str, token: str) -> None:
    """Store the next value as AWSPENDING under the token, unless an earlier attempt already did."""
    current = secretsmanager.get_secret_value(SecretId=secret_id, VersionStage=CURRENT)["SecretString"]
    try:
        secretsmanager.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage=PENDING)
        logger.info("pending value already exists")
        return
    except secretsmanager.exceptions.ResourceNotFoundException:
        pass
    secretsmanager.put_secret_value(
        SecretId=secret_id,
        ClientRequestToken=token,
        SecretString=rotated(current),
        VersionStages=[PENDING],
    )
    logger.info("pending value created")


def set_secret(secret_id: str, token: str) -> None:
    """No-op by design: no other system has to be told the key; everyone reads it from this secret.

    fraud-api reads AWSCURRENT (and AWSPREVIOUS) at run time, so the new key takes effect once
    finishSecret makes it AWSCURRENT and each task's next refresh (at most 5 minutes later by
    default) picks it up; see the module docstring.
    """


def test_secret(secret_id: str, token: str) -> None:
    """Refuse a pending value the API could not use; raising stops the rotation before finishSecret."""
    pending = validate(
        secretsmanager.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage=PENDING)["SecretString"]
    )
    if pending["signing_key"] == _current_signing_key(secret_id):
        raise RotationError("pending signing_key equals the current one; the rotation would not rotate")


def _current_signing_key(secret_id: str) -> str | None:
    # Leniently: a current value the API can no longer use must still be replaceable.
    try:
        document = json.loads(secretsmanager.get_secret_value(SecretId=secret_id, VersionStage=CURRENT)["SecretString"])
    except ValueError:
        return None
    return document.get("signing_key") if isinstance(document, dict) else None


def finish_secret(secret_id: str, token: str) -> None:
    """Move AWSCURRENT to the new version; Secrets Manager labels the old one AWSPREVIOUS.

    From here GetSecretValue returns the new key; running fraud-api tasks switch at their next
    refresh and keep signing with the AWSPREVIOUS key too during the overlap.
    """
    stages = secretsmanager.describe_secret(SecretId=secret_id)["VersionIdsToStages"]
    current_version = next((version for version, labels in stages.items() if CURRENT in labels), None)
    if current_version == token:
        return
    move: dict[str, str] = {"SecretId": secret_id, "VersionStage": CURRENT, "MoveToVersionId": token}
    if current_version is not None:
        move["RemoveFromVersionId"] = current_version
    secretsmanager.update_secret_version_stage(**move)
    logger.info("AWSCURRENT moved to the new version", extra={"previous_version_id": current_version})


STEPS: dict[str, Callable[[str, str], None]] = {
    "createSecret": create_secret,
    "setSecret": set_secret,
    "testSecret": test_secret,
    "finishSecret": finish_secret,
}
