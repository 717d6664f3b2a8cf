"""AWS SDK clients for a deployment target: the emulator's endpoint and keys, or the usual credential chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.targets import DeploymentTarget


@dataclass
class TargetClients:
    target: DeploymentTarget
    region: str

    def __post_init__(self) -> None:
        import boto3  # only the lifecycle needs it; synth does not

        settings = self.target.client_environment()
        if settings:
            self.session = boto3.session.Session(
                aws_access_key_id=settings["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=settings["AWS_SECRET_ACCESS_KEY"],
                region_name=self.region,
            )
            self._endpoint: str | None = settings["AWS_ENDPOINT_URL"]
        else:
            self.session = boto3.session.Session(region_name=self.region)
            self._endpoint = None

    def client(self, service: str) -> Any:
        from botocore.config import Config

        config = Config(s3={"addressing_style": "path"}) if self._endpoint else None
        return self.session.client(service, endpoint_url=self._endpoint, config=config)
