"""Audit trails exist and are kept a year (PCI DSS 10.2, 10.5.1); no log is kept forever by accident.

Operational logs (Lambda, container, SNS delivery status, API Gateway execution logs) keep less
where the requirements (docs/requirements.md) or cost say so; each such group records why on its resource (checkov CKV_AWS_338,
listed in docs/security.md). The audit trail of every request and connection is below.
"""

from __future__ import annotations

import pytest

from tests.security.synthesized import ENVIRONMENTS, Platform

PCI_RETENTION_DAYS = 365
# (layer, construct path) → what it records.
AUDIT_LOG_GROUPS = {
    ("edge", "stage/access-logs"): "every API request (caller, key id, status, WAF verdict)",
    ("edge", "web-acl/log-group"): "every WAF decision",
    ("data", "aurora/postgresql-logs"): "database connections, disconnections and DDL",
    ("data", "api-config/rotation-function/logs"): "every rotation of the API signing key",
}
AUDIT_LOG_BUCKETS = {
    ("network", "flow-logs/bucket/bucket"): "all VPC traffic (flow logs)",
    ("compute", "Default/load-balancer/access-logs/bucket"): "every request through the ALB",
    ("bootstrap", "state-access-logs/bucket"): "every access to Terraform state",
    ("bootstrap", "audit-logs/flow-logs/bucket"): "the VPC flow logs of environments that keep them past a teardown (prod)",
    ("bootstrap", "audit-logs/load-balancer-logs/bucket"): "the ALB access logs of environments that keep them past a teardown (prod)",
}


def test_every_log_group_expires(platform: Platform):
    for stack in platform.stacks.values():
        for logical_id, group in stack.resources("aws_cloudwatch_log_group").items():
            assert group.get("retention_in_days"), f"{stack.name}: {logical_id} keeps logs forever"


@pytest.mark.parametrize("environment", [*ENVIRONMENTS])
def test_audit_log_groups_are_kept_a_year(platform: Platform, environment: str):
    found = {}
    for stack in platform.environment(environment):
        for logical_id, group in stack.resources("aws_cloudwatch_log_group").items():
            found[(stack.layer, stack.path("aws_cloudwatch_log_group", logical_id))] = group["retention_in_days"]
    for audit_log, what in AUDIT_LOG_GROUPS.items():
        assert audit_log in found, f"{environment}: no log group for {what}"
        assert found[audit_log] >= PCI_RETENTION_DAYS, f"{environment}: {what} kept {found[audit_log]} days"


def test_audit_log_buckets_are_kept_a_year(platform: Platform):
    found = {}
    for stack in platform.stacks.values():
        for body in stack.resources("aws_s3_bucket_lifecycle_configuration").values():
            bucket = platform.resolve(stack, body["bucket"])
            expirations = [days["days"] for rule in body["rule"] for days in rule.get("expiration", [])]
            found.setdefault((stack.layer, platform.path(bucket)), []).append(min(expirations) if expirations else None)
    for audit_log, what in AUDIT_LOG_BUCKETS.items():
        assert audit_log in found, f"no lifecycle for the bucket of {what}"
        for days in found[audit_log]:
            assert days is None or days >= PCI_RETENTION_DAYS, f"{what} expires after {days} days"


@pytest.mark.parametrize("environment", [*ENVIRONMENTS])
def test_every_request_and_connection_is_recorded(platform: Platform, environment: str):
    network, compute, edge = (platform.stack(f"{layer}-{environment}") for layer in ("network", "compute", "edge"))
    (flow_log,) = network.resources("aws_flow_log").values()
    assert flow_log["traffic_type"] == "ALL" and platform.resolve(network, flow_log["vpc_id"]).type == "aws_vpc"
    for logical_id, balancer in compute.resources("aws_lb").items():
        assert balancer["access_logs"]["enabled"] is True, f"{compute.name}: {logical_id}"
    (stage,) = edge.resources("aws_api_gateway_stage").values()
    assert stage["access_log_settings"]["destination_arn"]
    (acl_logging,) = edge.resources("aws_wafv2_web_acl_logging_configuration").values()
    assert acl_logging["log_destination_configs"]
    for settings in edge.resources("aws_api_gateway_method_settings").values():
        # Full request/response logging would copy card data into CloudWatch.
        assert settings["settings"]["data_trace_enabled"] is False
