"""Bucket-policy statements that admit an AWS log delivery into a bucket: only under its prefix, only
for this account's logs. Used by the environments' own log buckets and by the account's audit-log
archive alike."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement

from components.aws_context import AwsContext
from components.security.policy_statements import conditions, principals

# CloudWatch Logs' delivery service: VPC flow logs to S3.
LOG_DELIVERY = "delivery.logs.amazonaws.com"
# ELB's regional log-delivery principal (regions opened since 2022 admit only this one; the
# older regions' per-region ELB account is admitted beside it).
ELB_LOG_DELIVERY = "logdelivery.elasticloadbalancing.amazonaws.com"


def _objects(bucket_arn: str, prefix: str, account_id: str) -> str:
    """Where a delivery writes: `<prefix>/AWSLogs/<account>/...` (prefix may hold a `*` for any environment)."""
    return f"{bucket_arn}/{prefix + '/' if prefix else ''}AWSLogs/{account_id}/*"


def flow_log_delivery_statements(context: AwsContext, bucket_arn: str, *, prefix: str = "") -> list[DataAwsIamPolicyDocumentStatement]:
    """The statements AWS would add itself on a flow log's first delivery; declaring them keeps the
    bucket policy fully managed here (and scoped to this account's log deliveries)."""
    delivery = principals("Service", LOG_DELIVERY)
    source = (
        ("StringEquals", "aws:SourceAccount", [context.account_id]),
        ("ArnLike", "aws:SourceArn", [context.arn("logs", "*")]),
    )
    return [
        DataAwsIamPolicyDocumentStatement(
            sid="AWSLogDeliveryWrite",
            actions=["s3:PutObject"],
            resources=[_objects(bucket_arn, prefix, context.account_id)],
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


def load_balancer_log_delivery_statements(
    context: AwsContext, bucket_arn: str, *, prefix: str, elb_account_arn: str
) -> list[DataAwsIamPolicyDocumentStatement]:
    """ELB writes under `<prefix>/AWSLogs/<the load balancer's account>/`, so admitting only this
    account's prefix keeps other accounts' load balancers out. The bucket must be SSE-S3: ELB
    cannot use a KMS key."""
    objects = _objects(bucket_arn, prefix, context.account_id)
    writers = (
        ("ElbLogDelivery", principals("Service", ELB_LOG_DELIVERY)),
        ("ElbLogDeliveryLegacyRegions", principals("AWS", elb_account_arn)),
    )
    return [
        DataAwsIamPolicyDocumentStatement(sid=sid, effect="Allow", actions=["s3:PutObject"], resources=[objects], principals=writer)
        for sid, writer in writers
    ]
