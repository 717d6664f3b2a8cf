"""What every layer stack shares: its AWS provider, its own S3 state, tags and names."""

from __future__ import annotations

from cdktf import S3Backend, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from components.aws_context import AwsContext
from components.naming import ResourceNamer
from config.settings import EnvironmentConfig
from config.targets import DeploymentTarget
from stacks.layers import Layer, stack_id

NAME_PREFIX = "fraud"


def state_key(environment: str, layer: Layer) -> str:
    """Where a layer keeps its state inside the environment's state bucket."""
    return f"{environment}/{layer.value}.tfstate"


class LayerStack(TerraformStack):
    """A stack that deploys one layer of one environment, on its own state."""

    def __init__(
        self,
        scope: Construct,
        *,
        layer: Layer,
        environment: EnvironmentConfig,
        target: DeploymentTarget,
    ) -> None:
        super().__init__(scope, stack_id(layer, environment.name))
        self.layer = layer
        self.environment = environment
        self.naming = ResourceNamer(prefix=NAME_PREFIX, suffix=environment.suffix, path_root=environment.project)

        AwsProvider(
            self,
            "aws",
            region=environment.region,
            default_tags=[AwsProviderDefaultTags(tags=self._default_tags())],
            **target.provider_settings(),
        )
        S3Backend(
            self,
            bucket=environment.state.bucket,
            key=state_key(environment.name, layer),
            region=environment.state.region,
            encrypt=True,
            **target.backend_settings(),
        )
        # S3-native state locking (Terraform >= 1.10); cdktf 0.21's S3Backend has no field for it.
        self.add_override("terraform.backend.s3.use_lockfile", True)
        self.context = AwsContext(self, "context")

    def _default_tags(self) -> dict[str, str]:
        return {
            "Environment": self.environment.name,
            "Project": self.environment.project,
            "CostCenter": self.environment.cost_center,
            "Layer": self.layer.value,
            "ManagedBy": "cdktf",
            **self.environment.extra_tags,
        }
