"""Retention of the compute layer's log groups, and the record of why some are under a year."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup

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
