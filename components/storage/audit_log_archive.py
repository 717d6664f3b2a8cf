"""The account's audit-log archive: VPC flow logs and ALB access logs that must outlive the
environment that wrote them (PCI DSS 10.5.1 keeps a year; docs/security.md, "Audit logs outlive a
teardown").

Owned by the bootstrap stack, which no environment teardown touches. An environment delivers into
it when its settings say so (`network.flow_logs_to_account_archive`,
`compute.access_logs_to_account_archive`), each under a prefix of its own. Two buckets, because the
two deliveries want different encryption: ELB writes only to SSE-S3 buckets, while flow logs can
use a KMS key whose policy admits their delivery service. Neither bucket is emptied on destroy,
and their policies refuse every deletion: objects leave only through the lifecycle rule, after
`audit_log_retention_days`.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_elb_service_account import DataAwsElbServiceAccount
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from constructs import Construct

from components.aws_context import AwsContext
from components.compliance import skip_check
from components.security.kms_key import CustomerManagedKey, KeyGrant
from components.security.policy_statements import principals
from components.storage.log_delivery import LOG_DELIVERY, flow_log_delivery_statements, load_balancer_log_delivery_statements
from components.storage.secure_bucket import LifecycleSettings, SecureBucket

FLOW_LOG_PREFIX = "vpc-flow-logs"
LOAD_BALANCER_LOG_PREFIX = "alb"
TRANSITION_TO_INFREQUENT_ACCESS_DAYS = 30
# What nobody may do to an archived log; S3's own lifecycle expiration is not a request, so it still runs.
DELETIONS = ("s3:DeleteObject", "s3:DeleteObjectVersion")


@dataclass(frozen=True)
class ArchiveDestination:
    """One environment's place in one archive bucket."""

    bucket: str
    prefix: str

    def s3_arn(self, partition: str) -> str:
        """The destination as a flow log names it: the bucket's ARN with the prefix as a folder."""
        return f"arn:{partition}:s3:::{self.bucket}/{self.prefix}/"


@dataclass(frozen=True)
class AuditArchiveLocation:
    """The archive's bucket names, known from the project, the account and the region alone, so an
    environment stack can name them without reading the bootstrap stack's state."""

    flow_logs_bucket: str
    load_balancer_logs_bucket: str

    @classmethod
    def of(cls, *, project: str, context: AwsContext) -> AuditArchiveLocation:
        # The account id and region keep the globally unique names from clashing with other accounts.
        return cls(
            flow_logs_bucket=f"{project}-audit-flow-logs-{context.account_id}-{context.region}",
            load_balancer_logs_bucket=f"{project}-audit-alb-logs-{context.account_id}-{context.region}",
        )

    def flow_logs(self, environment: str) -> ArchiveDestination:
        return ArchiveDestination(self.flow_logs_bucket, f"{FLOW_LOG_PREFIX}/{environment}")

    def load_balancer_logs(self, environment: str) -> ArchiveDestination:
        return ArchiveDestination(self.load_balancer_logs_bucket, f"{LOAD_BALANCER_LOG_PREFIX}/{environment}")


class AuditLogArchive(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, project: str, context: AwsContext, retention_days: int) -> None:
        super().__init__(scope, construct_id)
        self.location = AuditArchiveLocation.of(project=project, context=context)
        lifecycle = LifecycleSettings(transition_to_infrequent_access_days=TRANSITION_TO_INFREQUENT_ACCESS_DAYS, expiration_days=retention_days)
        from_this_account = ("StringEquals", "aws:SourceAccount", (context.account_id,))
        self.key = CustomerManagedKey(
            self,
            "key",
            alias=f"{project}-audit-logs",
            description="Encrypts the account's archive of VPC flow logs",
            deletion_window_days=30,
            context=context,
            service_grants=[KeyGrant(sid="FlowLogDelivery", service_principal=LOG_DELIVERY, conditions=(from_this_account,))],
        )
        self.flow_logs = SecureBucket(
            self,
            "flow-logs",
            bucket_name=self.location.flow_logs_bucket,
            kms_key_arn=self.key.arn,
            lifecycle=lifecycle,
            emptied_on_destroy=False,
            extra_policy_statements=lambda arn: [
                *flow_log_delivery_statements(context, arn, prefix=f"{FLOW_LOG_PREFIX}/*"),
                _deny_deletions(arn),
            ],
        )
        elb_account = DataAwsElbServiceAccount(self, "elb-account")
        self.load_balancer_logs = SecureBucket(
            self,
            "load-balancer-logs",
            bucket_name=self.location.load_balancer_logs_bucket,
            kms_key_arn=None,
            lifecycle=lifecycle,
            emptied_on_destroy=False,
            extra_policy_statements=lambda arn: [
                *load_balancer_log_delivery_statements(context, arn, prefix=f"{LOAD_BALANCER_LOG_PREFIX}/*", elb_account_arn=elb_account.arn),
                _deny_deletions(arn),
            ],
        )
        skip_check(
            self.load_balancer_logs.bucket, "CKV_AWS_145", "ALB access logs can only be delivered to SSE-S3 (AES256) buckets; ELB cannot use a KMS key"
        )
        for bucket in (self.flow_logs, self.load_balancer_logs):
            skip_check(bucket.bucket, "CKV_AWS_18", "this bucket is itself an audit-log archive; logging it into another log bucket adds no audit value")


def _deny_deletions(bucket_arn: str) -> DataAwsIamPolicyDocumentStatement:
    """Nobody deletes an archived log, the account's administrators included: removing this
    statement first is a reviewed change of the bootstrap stack, and leaves a trail."""
    return DataAwsIamPolicyDocumentStatement(
        sid="DenyDeletingAuditLogs",
        effect="Deny",
        actions=list(DELETIONS),
        resources=[f"{bucket_arn}/*"],
        principals=principals("*", "*"),
    )
