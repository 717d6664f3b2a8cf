"""The platform's CloudWatch log groups: each one encrypted with its environment's logs key and
kept a year (PCI DSS 10.5.1; checkov's CKV_AWS_338), or carrying the reason it is kept less."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from constructs import Construct

from components.compliance import skip_check

# PCI DSS 10.5.1: a year of audit-log history. checkov (CKV_AWS_338) asks it of every log group.
AUDIT_RETENTION_DAYS = 365


def explain_short_retention(log_group: CloudwatchLogGroup, days: int, why: str) -> None:
    """Record, on the group, why it keeps logs for `days` (< a year); nothing when it keeps a year."""
    if days < AUDIT_RETENTION_DAYS:
        skip_check(
            log_group,
            "CKV_AWS_338",
            f"operational log kept {days} days: {why}; the audit trail of requests (ALB access logs, VPC flow "
            "logs) is kept at least a year in S3",
        )


def encrypted_log_group(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    retention_days: int,
    logs_key_arn: str,
    why_shorter_than_a_year: str | None = None,
) -> CloudwatchLogGroup:
    """Made by us before the service that writes to it would create its own: unencrypted, never
    expiring and unknown to teardown."""
    group = CloudwatchLogGroup(
        scope, construct_id, name=name, retention_in_days=retention_days, kms_key_id=logs_key_arn
    )
    if why_shorter_than_a_year is not None:
        explain_short_retention(group, retention_days, why_shorter_than_a_year)
    return group
