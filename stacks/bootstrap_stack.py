"""Step 0: what every environment of the account shares, made once per account and region.

The S3 bucket that holds every other stack's state (with its key and access log), the ECR
repository fraud-api images are built into and promoted from, the ECR pull-through cache of ECR
Public that lets tasks without a route to the internet run public images, API Gateway's
account-wide CloudWatch role, and the audit-log archive that outlives an environment's teardown
(flow logs and ALB access logs of the environments whose settings send them there). It cannot
keep its own state in the bucket it creates,
so it uses local state (kept under .cache/, outside git). Losing that file loses nothing: the
resources can be imported again.
"""

from __future__ import annotations

from cdktf import LocalBackend
from constructs import Construct

from components.compliance import skip_check
from components.compute.public_images import PublicImageCache
from components.edge.api_gateway_account import ApiGatewayLoggingRole
from components.security.kms_key import CallerAccess, CustomerManagedKey
from components.security.policy_statements import allow_service_from_source
from components.storage.audit_log_archive import AuditLogArchive
from components.storage.image_repository import ImageRepository
from components.storage.secure_bucket import LifecycleSettings, SecureBucket
from config.settings import AccountSettings
from config.targets import DeploymentTarget
from stacks.base import PlatformStack

BOOTSTRAP_STACK_ID = "bootstrap"
BOOTSTRAP_STATE_FILE = "../../../.cache/bootstrap/terraform.tfstate"
# PCI DSS 10.5.1: keep audit logs for at least a year.
ACCESS_LOG_RETENTION_DAYS = 400


class AccountBootstrapStack(PlatformStack):
    def __init__(self, scope: Construct, *, account: AccountSettings, target: DeploymentTarget) -> None:
        super().__init__(
            scope,
            BOOTSTRAP_STACK_ID,
            region=account.region,
            tags={"Environment": "shared", "Project": account.project, "CostCenter": account.cost_center, "Layer": "bootstrap"},
            target=target,
        )
        # Relative to cdktf.out/stacks/bootstrap, so the state survives a re-synth.
        LocalBackend(self, path=BOOTSTRAP_STATE_FILE)
        state = account.state
        context = self.context
        key = CustomerManagedKey(
            self,
            "state-key",
            alias=state.kms_key_alias.removeprefix("alias/"),
            description="Encrypts Terraform state of every fraud-detection stack",
            deletion_window_days=30,
            context=context,
        )
        # S3 server access logs can only be delivered to an SSE-S3 bucket, so the access log of
        # the state bucket lives in a bucket of its own.
        access_logs = SecureBucket(
            self,
            "state-access-logs",
            bucket_name=f"{state.bucket}-access-logs",
            kms_key_arn=None,
            lifecycle=LifecycleSettings(transition_to_infrequent_access_days=30, expiration_days=ACCESS_LOG_RETENTION_DAYS),
            # With ACLs disabled (BucketOwnerEnforced) only a policy can admit S3's log delivery.
            extra_policy_statements=lambda arn: [
                allow_service_from_source(
                    sid="AllowStateBucketAccessLogs",
                    service_principal="logging.s3.amazonaws.com",
                    actions=["s3:PutObject"],
                    resources=[f"{arn}/{state.bucket}/*"],
                    source_arn=f"arn:{context.partition}:s3:::{state.bucket}",
                )
            ],
        )
        skip_check(access_logs.bucket, "CKV_AWS_145", "S3 server access logging delivers only to SSE-S3 buckets")
        bucket = SecureBucket(
            self,
            "state",
            bucket_name=state.bucket,
            kms_key_arn=key.arn,
            access_logs_bucket=access_logs,
            # Current state is never expired; only superseded versions are, after a recovery window.
            lifecycle=LifecycleSettings(transition_to_infrequent_access_days=None, expiration_days=None, noncurrent_version_expiration_days=90),
        )
        self.output("state_bucket_name", bucket.name, "The bucket every stack keeps its state in")

        images_key = CustomerManagedKey(
            self,
            "images-key",
            alias=f"{account.project}-images",
            description="Encrypts the fraud-api images in ECR",
            deletion_window_days=30,
            context=context,
            caller_access=CallerAccess(sid="ContainerRegistry", via_services=("ecr",)),
        )
        images = ImageRepository(
            self, "fraud-api-images", name=account.image_repository, kms_key_arn=images_key.arn, images_kept=account.images_kept
        )
        self.output("image_repository_url", images.url, "ECR repository the fraud-api image is pushed to")

        # Audit logs that must survive an environment's teardown (prod's flow logs and ALB access
        # logs): the environments deliver here, so destroying one leaves its trail (docs/security.md).
        AuditLogArchive(self, "audit-logs", project=account.project, context=context, retention_days=account.audit_log_retention_days)

        # API Gateway's CloudWatch role is one setting per account and region, shared by every
        # environment's stage: an account-level singleton like the state bucket (docs/edge.md).
        ApiGatewayLoggingRole(
            self,
            "api-gateway-logging",
            role_name=f"{account.project}-apigateway-cloudwatch-{account.region}",
            context=context,
            access_log_group_pattern=f"/{account.project}/*/api-gateway/*",
        )
        # One pull-through cache rule per prefix, account and region: shared by every environment.
        PublicImageCache(self, "public-image-cache")
