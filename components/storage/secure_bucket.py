"""An S3 bucket that is private, encrypted with a CMK, TLS-only and (unless it is an archive) destroyable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleTransition,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA, S3BucketVersioningVersioningConfiguration
from constructs import Construct

from components.compliance import skip_check
from components.security.policy_statements import deny_insecure_transport


@dataclass(frozen=True)
class LifecycleSettings:
    """None leaves that step out: state, for example, is never expired or tiered."""

    transition_to_infrequent_access_days: int | None
    expiration_days: int | None
    noncurrent_version_expiration_days: int = 30


class SecureBucket(Construct):
    """A bucket for logs and artefacts.

    Emptied on destroy (`force_destroy`) by default, because every environment must tear down
    without manual steps (docs/requirements.md R8.2); versioning still protects against overwrites
    while the bucket exists. An archive that must outlive its stack's teardown passes
    `emptied_on_destroy=False`: destroying it then fails while it holds anything.
    `extra_policy_statements` (given the bucket ARN) let a caller admit a delivery service next
    to the TLS-only rule.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        kms_key_arn: str | None,
        lifecycle: LifecycleSettings | None = None,
        extra_policy_statements: Callable[[str], list[DataAwsIamPolicyDocumentStatement]] | None = None,
        access_logs_bucket: "SecureBucket | None" = None,
        emptied_on_destroy: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = S3Bucket(self, "bucket", bucket=bucket_name, force_destroy=emptied_on_destroy)
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        skip_check(self.bucket, "CKV2_AWS_62", "nothing reacts to new objects here; logs and state are read on demand")
        skip_check(
            self.bucket,
            "CKV_AWS_144",
            "single-region platform: logs and state stay in their region (PCI asks retention, not replication); "
            "cross-region copies belong to a multi-region DR design",
        )
        if access_logs_bucket is not None:
            S3BucketLoggingA(
                self,
                "access-logs",
                bucket=self.bucket.id,
                target_bucket=access_logs_bucket.bucket.id,
                target_prefix=f"{bucket_name}/",
                # S3 checks, when logging is switched on, that the target's policy admits its log delivery.
                depends_on=[access_logs_bucket.policy],
            )

        S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=self.bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        S3BucketVersioningA(
            self,
            "versioning",
            bucket=self.bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        # Some AWS log deliveries (ALB access logs) accept only SSE-S3; pass kms_key_arn=None for those.
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=self.bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms" if kms_key_arn else "AES256",
                        kms_master_key_id=kms_key_arn,
                    ),
                    bucket_key_enabled=bool(kms_key_arn),
                )
            ],
        )
        if lifecycle:
            self._add_lifecycle(lifecycle)

        tls_only = deny_insecure_transport(actions=["s3:*"], resources=[self.bucket.arn, f"{self.bucket.arn}/*"])
        policy = DataAwsIamPolicyDocument(
            self, "policy-document", statement=[tls_only, *(extra_policy_statements(self.arn) if extra_policy_statements else [])]
        )
        self.policy = S3BucketPolicy(self, "policy", bucket=self.bucket.id, policy=policy.json)

    def _add_lifecycle(self, lifecycle: LifecycleSettings) -> None:
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=self.bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="tier-and-expire",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    transition=[
                        S3BucketLifecycleConfigurationRuleTransition(
                            days=lifecycle.transition_to_infrequent_access_days, storage_class="STANDARD_IA"
                        )
                    ]
                    if lifecycle.transition_to_infrequent_access_days
                    else None,
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=lifecycle.expiration_days)]
                    if lifecycle.expiration_days
                    else None,
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=lifecycle.noncurrent_version_expiration_days
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
                    ],
                )
            ],
        )
