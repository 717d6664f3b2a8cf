"""Where the stacks deploy: real AWS, or the local AWS emulator (moto's server).

Every emulator-only setting (endpoints, fake credentials, skipped account checks, path-style
S3) lives here and nowhere else, so a real-AWS synth can never carry one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Every AWS service the stacks call; the emulator serves them all on one endpoint.
EMULATED_SERVICES = (
    "acm", "apigateway", "appautoscaling", "cloudwatch", "codedeploy", "dynamodb", "ec2", "ecs",
    "elbv2", "events", "iam", "kms", "lambda", "logs", "rds", "route53", "s3", "secretsmanager",
    "sns", "sqs", "ssm", "sts", "wafv2", "xray",
)


@dataclass(frozen=True)
class DeploymentTarget:
    """Real AWS when `emulator_endpoint` is None, else the emulator listening there."""

    emulator_endpoint: str | None = None

    @property
    def is_emulator(self) -> bool:
        return self.emulator_endpoint is not None

    def provider_settings(self) -> dict[str, Any]:
        """Extra AwsProvider arguments for this target."""
        if not self.is_emulator:
            return {}
        return {
            "access_key": "test",
            "secret_key": "test",
            "skip_credentials_validation": True,
            "skip_metadata_api_check": "true",
            "skip_requesting_account_id": False,
            "s3_use_path_style": True,
            "endpoints": [{service: self.emulator_endpoint for service in EMULATED_SERVICES}],
        }

    def backend_settings(self) -> dict[str, Any]:
        """Extra S3Backend arguments for this target (remote-state reads reuse them)."""
        if not self.is_emulator:
            return {}
        return {
            "access_key": "test",
            "secret_key": "test",
            "skip_credentials_validation": True,
            "skip_metadata_api_check": True,
            "skip_region_validation": True,
            "force_path_style": True,
            "endpoints": {"s3": self.emulator_endpoint, "sts": self.emulator_endpoint, "iam": self.emulator_endpoint},
        }
