"""The AWS account a real deploy goes to, read once so the state bucket's name is the account's own.

A backend's settings are fixed at synth (Terraform allows no references there), so the state
bucket's name must be known before anything runs: with neither FRAUD_STATE_BUCKET nor
FRAUD_AWS_ACCOUNT_ID set, the lifecycle asks STS who the credentials belong to and synthesizes
and reads with `fraud-detection-tfstate-<account>-<region>` (docs/aws-first-deploy.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from config.settings import ConfigError


def with_account_id(env: dict[str, str], sts: Callable[[], Any]) -> dict[str, str]:
    """`env` with FRAUD_AWS_ACCOUNT_ID from STS when neither it nor FRAUD_STATE_BUCKET names the bucket."""
    if env.get("FRAUD_STATE_BUCKET") or env.get("FRAUD_AWS_ACCOUNT_ID"):
        return env
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        account_id = sts().get_caller_identity()["Account"]
    except (BotoCoreError, ClientError) as error:
        raise ConfigError(
            f"FRAUD_STATE_BUCKET and FRAUD_AWS_ACCOUNT_ID are unset and STS could not say which account the "
            f"credentials belong to ({error}); set one of them, or run with AWS credentials"
        ) from None
    return {**env, "FRAUD_AWS_ACCOUNT_ID": account_id}
