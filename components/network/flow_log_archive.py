"""VPC flow logs (all traffic) delivered to an encrypted, lifecycle-managed S3 bucket: the
network layer's own, or the account's audit-log archive."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.flow_log import FlowLog
from constructs import Construct

from components.aws_context import AwsContext
from components.compliance import skip_check
from components.naming import ResourceNamer
from components.security.kms_key import CustomerManagedKey, KeyGrant
from components.storage.audit_log_archive import ArchiveDestination
from components.storage.log_delivery import LOG_DELIVERY, flow_log_delivery_statements
from components.storage.secure_bucket import LifecycleSettings, SecureBucket


class FlowLogArchive(Construct):
    """Without `account_archive`, the network layer owns the bucket and its key: the data layer's
    keys are downstream of the network, and audit logs of the network must not depend on a layer
    that can be rebuilt; its teardown empties them. With `account_archive`, the logs go to the
    account's archive (bootstrap stack) under the environment's prefix and outlive the teardown."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        context: AwsContext,
        vpc_id: str,
        lifecycle: LifecycleSettings,
        key_deletion_window_days: int,
        account_archive: ArchiveDestination | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key: CustomerManagedKey | None = None
        self.bucket: SecureBucket | None = None
        if account_archive is None:
            self.key, self.bucket = self._own_bucket(naming, context, lifecycle, key_deletion_window_days)
            destination, after = self.bucket.arn, [self.bucket.policy]
        else:
            # The archive and its policy exist before any environment (bootstrap, step 0).
            destination, after = account_archive.s3_arn(context.partition), None
        FlowLog(
            self,
            "flow-log",
            vpc_id=vpc_id,
            traffic_type="ALL",
            log_destination_type="s3",
            log_destination=destination,
            max_aggregation_interval=60,
            tags={"Name": naming.name("flow-log")},
            # Created after the policy that admits the delivery, or EC2 races to write a policy of
            # its own; destroyed before it, so no delivery lands once the bucket is being emptied.
            depends_on=after,
        )

    def _own_bucket(
        self, naming: ResourceNamer, context: AwsContext, lifecycle: LifecycleSettings, key_deletion_window_days: int
    ) -> tuple[CustomerManagedKey, SecureBucket]:
        from_this_account = ("StringEquals", "aws:SourceAccount", (context.account_id,))
        key = CustomerManagedKey(
            self,
            "key",
            alias=naming.name("flow-logs"),
            description="Encrypts the VPC flow log archive",
            deletion_window_days=key_deletion_window_days,
            context=context,
            service_grants=[KeyGrant(sid="FlowLogDelivery", service_principal=LOG_DELIVERY, conditions=(from_this_account,))],
        )
        bucket = SecureBucket(
            self,
            "bucket",
            bucket_name=f"{naming.name('flow-logs', max_length=63 - 13)}-{context.account_id}",
            kms_key_arn=key.arn,
            lifecycle=lifecycle,
            extra_policy_statements=lambda bucket_arn: flow_log_delivery_statements(context, bucket_arn),
        )
        skip_check(bucket.bucket, "CKV_AWS_18", "this bucket is the access-log archive; logging it into itself would loop")
        return key, bucket
