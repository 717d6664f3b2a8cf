#!/usr/bin/env python
"""Entry point of `cdktf synth|deploy|destroy`: the only place that reads the process environment.

  FRAUD_ENVIRONMENTS   comma-separated subset to synthesize (default: every environment)
  FRAUD_HOSTED_ZONE    the organisation's Route 53 zone the API names live in
  FRAUD_STATE_BUCKET   the S3 bucket holding every stack's state
  FRAUD_ALARM_EMAIL    where alarm notifications go
  FRAUD_API_IMAGE      the fraud-api image to deploy (promotion pins a tag or digest)
  FRAUD_TARGET         `aws` (default) or `emulator`
  FRAUD_EMULATOR_ENDPOINT  the emulator's URL when FRAUD_TARGET=emulator
"""

from __future__ import annotations

import dataclasses
import os
import sys

from config.environments import DEFAULT_HOSTED_ZONE, DEFAULT_STATE_BUCKET, build_environments, select_environments
from config.settings import ConfigError, EnvironmentConfig, validate
from config.targets import DeploymentTarget

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


def read_target(env: dict[str, str]) -> DeploymentTarget:
    target = env.get("FRAUD_TARGET", "aws")
    if target == "aws":
        return DeploymentTarget()
    if target == "emulator":
        return DeploymentTarget(emulator_endpoint=env.get("FRAUD_EMULATOR_ENDPOINT") or DEFAULT_EMULATOR_ENDPOINT)
    raise ConfigError(f"FRAUD_TARGET is '{target}'; use 'aws' or 'emulator'")


def main() -> int:
    try:
        environments = read_environments(dict(os.environ))
        target = read_target(dict(os.environ))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    # Imported only after the configuration is known to be good: loading the AWS provider
    # bindings takes seconds, and a bad setting should fail at once.
    from cdktf import App

    from stacks.platform import add_environment, add_state_bucket

    app = App()
    add_state_bucket(app, environments, target)
    for environment in environments:
        add_environment(app, environment, target)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
