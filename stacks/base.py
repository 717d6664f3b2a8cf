"""What every stack of the platform shares: its AWS provider with the platform's tags, and its AWS context.

`PlatformStack` is any stack of the platform (the account bootstrap included); `LayerStack` is
one layer of one environment, on its own S3 state.
"""

from __future__ import annotations

from typing import Any

from cdktf import S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from components.aws_context import AwsContext
from components.naming import ResourceNamer
from config.settings import EnvironmentConfig
from config.targets import DeploymentTarget
from stacks.layers import Layer, stack_id, state_key

NAME_PREFIX = "fraud"


class PlatformStack(TerraformStack):
    """A stack whose every taggable resource carries `tags` (provider default tags)."""

    def __init__(self, scope: Construct, stack_name: str, *, region: str, tags: dict[str, str], target: DeploymentTarget) -> None:
        super().__init__(scope, stack_name)
        AwsProvider(
            self,
            "aws",
            region=region,
            default_tags=[AwsProviderDefaultTags(tags={**tags, "ManagedBy": "cdktf"})],
            **target.provider_settings(),
        )
        self.context = AwsContext(self, "context")

    def output(self, name: str, value: Any, description: str) -> None:
        """A value users read after a deploy (`cdktf output`): every one says what it is."""
        TerraformOutput(self, name, value=value, description=description)


class LayerStack(PlatformStack):
    """A stack that deploys one layer of one environment, on its own state."""

    def __init__(
        self,
        scope: Construct,
        *,
        layer: Layer,
        environment: EnvironmentConfig,
        target: DeploymentTarget,
    ) -> None:
        super().__init__(
            scope,
            stack_id(layer, environment.name),
            region=environment.region,
            tags={
                "Environment": environment.name,
                "Project": environment.project,
                "CostCenter": environment.cost_center,
                "Layer": layer.value,
                **environment.extra_tags,
            },
            target=target,
        )
        self.layer = layer
        self.environment = environment
        self.naming = ResourceNamer(prefix=NAME_PREFIX, suffix=environment.suffix, path_root=environment.project)
        S3Backend(
            self,
            bucket=environment.state.bucket,
            key=state_key(environment.name, layer),
            region=environment.state.region,
            encrypt=True,
            # The backend sends its own encryption header on every state and lock object, which
            # overrides the bucket's default key: without a key here they would be SSE-S3. cdktf
            # copies these settings into every `terraform_remote_state` read of this stack.
            kms_key_id=environment.state.kms_key_alias,
            **target.backend_settings(),
        )
        # S3-native state locking (Terraform >= 1.10); cdktf 0.21's S3Backend has no field for it.
        self.add_override("terraform.backend.s3.use_lockfile", True)
