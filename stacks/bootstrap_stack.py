"""Step 0: the S3 bucket that holds every other stack's state.

It cannot keep its own state in the bucket it creates, so it uses local state (kept under
.cache/, outside git). Losing that file loses nothing: the bucket can be imported again.
"""

from __future__ import annotations

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from components.aws_context import AwsContext
from components.security.kms_key import CustomerManagedKey
from components.storage.secure_bucket import SecureBucket
from config.settings import StateSettings
from config.targets import DeploymentTarget

BOOTSTRAP_STACK_ID = "bootstrap"
BOOTSTRAP_STATE_FILE = "../../../.cache/bootstrap/terraform.tfstate"


class StateBucketStack(TerraformStack):
    def __init__(self, scope: Construct, *, state: StateSettings, project: str, target: DeploymentTarget) -> None:
        super().__init__(scope, BOOTSTRAP_STACK_ID)
        AwsProvider(
            self,
            "aws",
            region=state.region,
            default_tags=[AwsProviderDefaultTags(tags={"Project": project, "Layer": "bootstrap", "ManagedBy": "cdktf"})],
            **target.provider_settings(),
        )
        # Relative to cdktf.out/stacks/bootstrap, so the state survives a re-synth.
        LocalBackend(self, path=BOOTSTRAP_STATE_FILE)
        key = CustomerManagedKey(
            self,
            "state-key",
            alias=f"{state.bucket}-state",
            description="Encrypts Terraform state of every fraud-detection stack",
            deletion_window_days=30,
            context=AwsContext(self, "context"),
            grants=[],
        )
        bucket = SecureBucket(self, "state", bucket_name=state.bucket, kms_key_arn=key.arn)
        TerraformOutput(self, "state_bucket_name", value=bucket.name)
