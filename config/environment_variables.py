"""The process-environment variables the project understands, read into validated settings.

The entry point (`app.py`) and the lifecycle commands hand their environment in as a plain dict,
so nothing below them ever reads `os.environ`:

  FRAUD_ENVIRONMENTS       comma-separated subset to synthesize (default: every environment)
  FRAUD_HOSTED_ZONE        the organisation's Route 53 zone the API names live in
  FRAUD_STATE_BUCKET       the S3 bucket holding every stack's state
  FRAUD_AWS_ACCOUNT_ID     the AWS account (12 digits); without FRAUD_STATE_BUCKET the state bucket
                           is then `fraud-detection-tfstate-<account>-<region>` (the lifecycle sets it
                           from STS when deploying to AWS)
  FRAUD_ALARM_EMAIL        where alarm notifications go
  FRAUD_API_IMAGE          the fraud-api image to deploy (promotion pins a tag or digest)
  FRAUD_TARGET             `aws` (default) or `emulator`
  FRAUD_EMULATOR_ENDPOINT  the emulator's URL when FRAUD_TARGET=emulator
"""

from __future__ import annotations

import dataclasses
import re

from config.environments import (
    DEFAULT_ALARM_EMAIL,
    DEFAULT_HOSTED_ZONE,
    DEFAULT_REGION,
    DEFAULT_STATE_BUCKET,
    build_account,
    build_environments,
    select_environments,
    state_bucket_for_account,
)
from config.settings import AccountSettings, ConfigError, EnvironmentConfig
from config.targets import DeploymentTarget
from config.validation import validate

DEFAULT_EMULATOR_ENDPOINT = "http://127.0.0.1:4566"


def read_environments(env: dict[str, str]) -> list[EnvironmentConfig]:
    """The environments to synthesize, validated; raises ConfigError naming what to fix."""
    organisation = {
        "hosted_zone_name": env.get("FRAUD_HOSTED_ZONE") or DEFAULT_HOSTED_ZONE,
        "state_bucket": _state_bucket(env),
    }
    if env.get("FRAUD_ALARM_EMAIL"):
        organisation["alarm_email"] = env["FRAUD_ALARM_EMAIL"]
    selected = select_environments(build_environments(**organisation), env.get("FRAUD_ENVIRONMENTS"))
    image = env.get("FRAUD_API_IMAGE")
    if image:
        selected = [
            dataclasses.replace(config, compute=dataclasses.replace(config.compute, fraud_api_image=image))
            for config in selected
        ]
        for config in selected:
            validate(config)
    return selected


def read_account(env: dict[str, str]) -> AccountSettings:
    """What the environments share (the bootstrap stack's settings); raises ConfigError naming what to fix."""
    return build_account(state_bucket=_state_bucket(env))


def _state_bucket(env: dict[str, str]) -> str:
    if env.get("FRAUD_STATE_BUCKET"):
        return env["FRAUD_STATE_BUCKET"]
    account_id = env.get("FRAUD_AWS_ACCOUNT_ID")
    if not account_id:
        return DEFAULT_STATE_BUCKET
    if not _ACCOUNT_ID.match(account_id):
        raise ConfigError(f"FRAUD_AWS_ACCOUNT_ID is '{account_id}'; an AWS account id is 12 digits")
    return state_bucket_for_account(account_id, DEFAULT_REGION)


_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
# Reserved for documentation (RFC 2606): no zone under them can be delegated, no mail delivered.
_EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org")


def _is_example(domain: str) -> bool:
    return any(domain == reserved or domain.endswith("." + reserved) for reserved in _EXAMPLE_DOMAINS)


def refuse_placeholders_for_aws(env: dict[str, str]) -> None:
    """Raise ConfigError, in one line naming every variable to set, when a deploy to real AWS would
    use a placeholder: the generic state bucket (a global name surely taken), the example hosted
    zone (fails only at plan), or the example alarm address (every alarm would go nowhere).

    The emulator and the tests keep the defaults; only the lifecycle's AWS commands call this."""
    account = read_account(env)
    environments = read_environments(env)
    missing = []
    if account.state.bucket == DEFAULT_STATE_BUCKET:
        missing.append(
            f"FRAUD_AWS_ACCOUNT_ID (the state bucket becomes {DEFAULT_STATE_BUCKET}-<account>-<region>; "
            f"'{DEFAULT_STATE_BUCKET}' is a global S3 name surely taken) or FRAUD_STATE_BUCKET"
        )
    zones = sorted({config.edge.hosted_zone_name for config in environments if _is_example(config.edge.hosted_zone_name)})
    if zones:
        missing.append(f"FRAUD_HOSTED_ZONE (your public Route 53 zone, not the placeholder {', '.join(zones)})")
    emails = sorted(
        {config.observability.alarm_email for config in environments if _is_example(config.observability.alarm_email.rpartition("@")[2])}
    )
    if emails:
        missing.append(f"FRAUD_ALARM_EMAIL (the on-call address; {', '.join(emails)} receives no mail)")
    if missing:
        raise ConfigError("before deploying to AWS set " + "; ".join(missing))


def read_target(env: dict[str, str]) -> DeploymentTarget:
    """Where the synthesized stacks will deploy; raises ConfigError for an unknown target."""
    target = env.get("FRAUD_TARGET", "aws")
    if target == "aws":
        return DeploymentTarget()
    if target == "emulator":
        return DeploymentTarget(emulator_endpoint=env.get("FRAUD_EMULATOR_ENDPOINT") or DEFAULT_EMULATOR_ENDPOINT)
    raise ConfigError(f"FRAUD_TARGET is '{target}'; use 'aws' or 'emulator'")
