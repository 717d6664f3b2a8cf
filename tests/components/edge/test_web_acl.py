"""The web ACL's rules follow its settings; its log never holds credentials."""

from __future__ import annotations

import pytest

from components.aws_context import AwsContext
from components.edge.web_acl import WebAcl
from config.settings import EdgeSettings


def _acl(stack, naming, **overrides):
    settings = dict(waf_requests_per_five_minutes_per_ip=500, blocked_country_codes=("KP",), waf_ip_reputation_enabled=True, waf_anonymous_ip_enabled=True)
    settings.update(overrides)
    return WebAcl(
        stack,
        "waf",
        naming=naming,
        context=AwsContext(stack, "context"),
        settings=EdgeSettings(hosted_zone_name="example.com", api_subdomain="api", audit_log_retention_days=365, **settings),
        internal_cidrs=("10.0.0.0/16",),
        logs_key_arn="arn:aws:kms:us-east-1:111122223333:key/logs",
        protected_resource_arns={"stage": "arn:stage", "alb": "arn:alb"},
    )


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({}, ["geo-block", "ip-reputation", "anonymous-ip", "rate-limit-per-ip", "known-bad-inputs", "sqli", "common"]),
        ({"blocked_country_codes": ()}, ["ip-reputation", "anonymous-ip", "rate-limit-per-ip", "known-bad-inputs", "sqli", "common"]),
        ({"waf_ip_reputation_enabled": False, "waf_anonymous_ip_enabled": False}, ["geo-block", "rate-limit-per-ip", "known-bad-inputs", "sqli", "common"]),
    ],
)
def test_rules_follow_the_settings_in_priority_order(bare_stack, naming, overrides, expected):
    stack, synth = bare_stack
    waf = _acl(stack, naming, **overrides)
    acl = next(iter(synth()["resource"]["aws_wafv2_web_acl"].values()))
    rules = sorted(acl["rule"], key=lambda rule: rule["priority"])
    assert [rule["name"] for rule in rules] == expected
    assert [rule["priority"] for rule in rules] == list(range(len(expected)))
    assert waf.rule_metric_names == tuple(rule["visibility_config"]["metric_name"] for rule in rules)


def test_anonymous_ip_group_only_counts_hosting_providers(bare_stack, naming):
    stack, synth = bare_stack
    _acl(stack, naming)
    acl = next(iter(synth()["resource"]["aws_wafv2_web_acl"].values()))
    (anonymous,) = [rule for rule in acl["rule"] if rule["name"] == "anonymous-ip"]
    overrides = anonymous["statement"]["managed_rule_group_statement"]["rule_action_override"]
    assert overrides == [{"name": "HostingProviderIPList", "action_to_use": {"count": {}}}]


def test_log_group_name_key_and_redactions(bare_stack, naming):
    stack, synth = bare_stack
    _acl(stack, naming)
    resources = synth()["resource"]
    (group,) = resources["aws_cloudwatch_log_group"].values()
    assert group["name"] == "aws-waf-logs-fraud-waf-test"
    assert group["kms_key_id"].endswith("key/logs")
    logging = next(iter(resources["aws_wafv2_web_acl_logging_configuration"].values()))
    assert [field["single_header"]["name"] for field in logging["redacted_fields"]] == ["authorization", "x-api-key"]
    assert logging["depends_on"], "the delivery policy must exist before WAF starts logging"
    assert {body["resource_arn"] for body in resources["aws_wafv2_web_acl_association"].values()} == {"arn:stage", "arn:alb"}
