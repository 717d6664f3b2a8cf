"""SSM parameters under `/fraud-detection/<env>/`: the scoring configuration and where the data lives.

The scoring configuration is a SecureString under the storage key (it is what an attacker would
read to learn how to stay under the thresholds). The other values are names and endpoints that
are not secret; they are plain Strings so operators and scripts can discover the environment.
"""

from __future__ import annotations

import json
from typing import Any

from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from components.aws_context import AwsContext
from components.compliance import skip_check
from components.naming import ResourceNamer

SCORING_CONFIG_PATH = ("scoring", "config")


class DataParameters(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        context: AwsContext,
        storage_key_arn: str,
        scoring_document: dict[str, Any],
        plain_values: dict[tuple[str, ...], tuple[str, str]],
    ) -> None:
        """`plain_values` maps a path below the environment's root to (value, description)."""
        super().__init__(scope, construct_id)
        self.path_prefix = naming.path()
        self.path_arn = context.arn("ssm", f"parameter{self.path_prefix}/*")

        # Terraform owns the value: thresholds change through DataSettings.scoring and a reviewed
        # deploy, so every change is in version control (PCI DSS change control).
        self.scoring_config = SsmParameter(
            self,
            "scoring-config",
            name=naming.path(*SCORING_CONFIG_PATH),
            description="Scoring thresholds and weights the fraud Lambdas read (fraud_scoring.ScoringConfig JSON)",
            type="SecureString",
            key_id=storage_key_arn,
            value=json.dumps(scoring_document, sort_keys=True),
            tier="Standard",
        )
        self.scoring_config_name = self.scoring_config.name
        self.scoring_config_arn = self.scoring_config.arn

        self.plain = {}
        for path, (value, description) in plain_values.items():
            parameter = SsmParameter(
                self,
                "-".join(path),
                name=naming.path(*path),
                description=description,
                type="String",
                value=value,
            )
            skip_check(parameter, "CKV2_AWS_34", "a resource name or endpoint, not a secret: readable in plain text by design")
            self.plain[path] = parameter
