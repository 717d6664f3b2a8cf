"""The process-environment variables the project understands, read into validated settings.

The entry point (`app.py`) and the lifecycle commands hand their environment in as a plain dict,
so nothing below them ever reads `os.environ`:

  FRAUD_ENVIRONMENTS       comma-separated subset to synthesize (default: every environment)
  FRAUD_HOSTED_ZONE        the organisation's Route 53 zone the API names live in
  FRAUD_STATE_BUCKET       the S3 bucket holding every stack's state
  FRAUD_ALARM_EMAIL        where alarm notifications go
  FRAUD_API_IMAGE          the fraud-api image to deploy (promotion pins a tag or digest)
  FRAUD_TARGET             `aws` (default) or `emulator`
  FRAUD_EMULATOR_ENDPOINT  the emulator's URL when FRAUD_TARGET=emulator
"""

from __future__ import annotations

import dataclasses

from config.environments import DEFAULT_HOSTED_ZONE, DEFAULT_STATE_BUCKET, build_account, build_environments, select_environments
from config.settings import AccountSettings, ConfigError, EnvironmentConfig
from config.targets import DeploymentTarget
from config.validation import validate

DEFAULT_EMULATOR_ENDPOINT = "http://127.0.0.1:4566"


def read_environments(env: dict[str, str]) -> list[EnvironmentConfig]:
    """The environments to synthesize, validated; raises ConfigError naming what to fix."""
    organisation = {
        "hosted_zone_name": env.get("FRAUD_HOSTED_ZONE") or DEFAULT_HOSTED_ZONE,
        "state_bucket": env.get("FRAUD_STATE_BUCKET") or DEFAULT_STATE_BUCKET,
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
    return build_account(state_bucket=env.get("FRAUD_STATE_BUCKET") or DEFAULT_STATE_BUCKET)


def read_target(env: dict[str, str]) -> DeploymentTarget:
    """Where the synthesized stacks will deploy; raises ConfigError for an unknown target."""
    target = env.get("FRAUD_TARGET", "aws")
    if target == "aws":
        return DeploymentTarget()
    if target == "emulator":
        return DeploymentTarget(emulator_endpoint=env.get("FRAUD_EMULATOR_ENDPOINT") or DEFAULT_EMULATOR_ENDPOINT)
    raise ConfigError(f"FRAUD_TARGET is '{target}'; use 'aws' or 'emulator'")
