"""VPC flow logs (all traffic) delivered to an encrypted, lifecycle-managed S3 bucket."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from constructs import Construct

from components.aws_context import AwsContext
from components.compliance import skip_check
from components.naming import ResourceNamer
from components.security.kms_key import CustomerManagedKey, KeyGrant
from components.security.policy_statements import conditions, principals
from components.storage.secure_bucket import LifecycleSettings, SecureBucket

LOG_DELIVERY = "delivery.logs.amazonaws.com"


class FlowLogArchive(Construct):
    """The network layer owns this bucket and its key: the data layer's keys are downstream of
    the network, and audit logs of the network must not depend on a layer that can be rebuilt."""

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
    ) -> None:
        super().__init__(scope, construct_id)
        from_this_account = ("StringEquals", "aws:SourceAccount", (context.account_id,))
        self.key = CustomerManagedKey(
            self,
            "key",
            alias=naming.name("flow-logs"),
            description="Encrypts the VPC flow log archive",
            deletion_window_days=key_deletion_window_days,
            context=context,
            service_grants=[KeyGrant(sid="FlowLogDelivery", service_principal=LOG_DELIVERY, conditions=(from_this_account,))],
        )
        bucket_name = f"{naming.name('flow-logs', max_length=63 - 13)}-{context.account_id}"
        self.bucket = SecureBucket(
            self,
            "bucket",
            bucket_name=bucket_name,
            kms_key_arn=self.key.arn,
            lifecycle=lifecycle,
            extra_policy_statements=lambda bucket_arn: FlowLogArchive._delivery_statements(context, bucket_arn),
        )
        skip_check(self.bucket.bucket, "CKV_AWS_18", "this bucket is the access-log archive; logging it into itself would loop")
        FlowLog(
            self,
            "flow-log",
            vpc_id=vpc_id,
            traffic_type="ALL",
            log_destination_type="s3",
            log_destination=self.bucket.arn,
            max_aggregation_interval=60,
            tags={"Name": naming.name("flow-log")},
            # Created after the policy that admits the delivery, or EC2 races to write a policy of
            # its own; destroyed before it, so no delivery lands once the bucket is being emptied.
            depends_on=[self.bucket.policy],
        )

    @staticmethod
    def _delivery_statements(context: AwsContext, bucket_arn: str) -> list[DataAwsIamPolicyDocumentStatement]:
        # The statements AWS would add itself on first delivery; declaring them keeps the
        # bucket policy fully managed here (and scoped to this account's log deliveries).
        delivery = principals("Service", LOG_DELIVERY)
        source = (
            ("StringEquals", "aws:SourceAccount", [context.account_id]),
            ("ArnLike", "aws:SourceArn", [context.arn("logs", "*")]),
        )
        return [
            DataAwsIamPolicyDocumentStatement(
                sid="AWSLogDeliveryWrite",
                actions=["s3:PutObject"],
                resources=[f"{bucket_arn}/AWSLogs/{context.account_id}/*"],
                principals=delivery,
                condition=conditions(("StringEquals", "s3:x-amz-acl", ["bucket-owner-full-control"]), *source),
            ),
            DataAwsIamPolicyDocumentStatement(
                sid="AWSLogDeliveryAclCheck",
                actions=["s3:GetBucketAcl"],
                resources=[bucket_arn],
                principals=delivery,
                condition=conditions(*source),
            ),
        ]
