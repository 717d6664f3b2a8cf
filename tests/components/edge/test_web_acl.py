"""The web ACL's rules follow its settings; its log never holds credentials."""

from __future__ import annotations

import pytest

from components.aws_context import AwsContext
from components.edge.rest_api import FRAUD_API, TRANSACTIONS
from components.edge.usage_plans import PlanLimits
from components.edge.web_acl import KeyedRoute, WebAcl
from config.settings import EdgeSettings

RATE_RULES = ["rate-keyless-per-ip", "rate-keyed-per-ip", "rate-per-key-transactions", "rate-per-key-api"]


def _acl(stack, naming, **overrides):
    settings = dict(waf_keyless_requests_per_minute_per_ip=50, blocked_country_codes=("KP",), waf_ip_reputation_enabled=True, waf_anonymous_ip_enabled=True)
    settings.update(overrides)
    return WebAcl(
        stack,
        "waf",
        naming=naming,
        context=AwsContext(stack, "context"),
        settings=EdgeSettings(hosted_zone_name="example.com", api_subdomain="api", audit_log_retention_days=365, **settings),
        stage_name="test",
        keyed_routes=[
            KeyedRoute(route=TRANSACTIONS, limits=PlanLimits(rate_limit_per_second=10, burst_limit=20)),
            KeyedRoute(route=FRAUD_API, limits=PlanLimits(rate_limit_per_second=100, burst_limit=200)),
        ],
        logs_key_arn="arn:aws:kms:us-east-1:111122223333:key/logs",
        protected_resource_arns={"stage": "arn:stage"},
    )


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({}, ["geo-block", "ip-reputation", "anonymous-ip", *RATE_RULES, "known-bad-inputs", "sqli", "common"]),
        ({"blocked_country_codes": ()}, ["ip-reputation", "anonymous-ip", *RATE_RULES, "known-bad-inputs", "sqli", "common"]),
        ({"waf_ip_reputation_enabled": False, "waf_anonymous_ip_enabled": False}, ["geo-block", *RATE_RULES, "known-bad-inputs", "sqli", "common"]),
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
    assert {body["resource_arn"] for body in resources["aws_wafv2_web_acl_association"].values()} == {"arn:stage"}


def test_keyed_limits_sit_above_what_each_plan_admits_in_the_window(bare_stack, naming):
    stack, synth = bare_stack
    _acl(stack, naming, waf_keyed_limit_headroom=2.0)
    acl = next(iter(synth()["resource"]["aws_wafv2_web_acl"].values()))
    limits = {rule["name"]: rule["statement"]["rate_based_statement"]["limit"] for rule in acl["rule"] if rule["name"] in RATE_RULES}
    # Twice a 60-second window at the plan's rate plus its burst: 2 x (20 + 10 x 60), 2 x (200 + 100 x 60).
    assert limits == {
        "rate-keyless-per-ip": 50,
        "rate-per-key-transactions": 1240,
        "rate-per-key-api": 12400,
        "rate-keyed-per-ip": 1240 + 12400,
    }
