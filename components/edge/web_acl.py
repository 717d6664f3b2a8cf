"""The WAF web ACL in front of the API stage and the internal ALB, with its CloudWatch log.

Rules, cheapest and most decisive first: countries on the blocked list, AWS's IP reputation
and anonymous-IP lists, a per-IP rate limit, then AWS's managed groups for known bad inputs
(Log4Shell and the like), SQL injection and the common rule set (XSS, oversize bodies, LFI/RFI...).

The same ACL guards the ALB as a second line: whatever reaches the ALB from inside the VPC is
inspected again. Through the VPC link the ALB sees the NLB's private addresses as the client IP,
so the rate rule leaves addresses of the VPC alone (it would otherwise count every client's
traffic as coming from three IPs); API Gateway sees the real client address and is rate limited.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.cloudwatch_log_resource_policy import CloudwatchLogResourcePolicy
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.wafv2_ip_set import Wafv2IpSet
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct

from components.aws_context import AwsContext
from components.naming import ResourceNamer
from config.settings import EdgeSettings

# WAF delivers to CloudWatch Logs only into groups whose name starts with this.
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"
# Credentials never reach the WAF log (header names as WAF matches them: lowercase).
REDACTED_HEADERS = ("authorization", "x-api-key")
RATE_WINDOW_SECONDS = 300
LOG_DELIVERY = "delivery.logs.amazonaws.com"
# The managed groups every environment runs, in the order they are evaluated.
MANAGED_RULE_GROUPS = (
    ("known-bad-inputs", "AWSManagedRulesKnownBadInputsRuleSet"),
    ("sqli", "AWSManagedRulesSQLiRuleSet"),
    ("common", "AWSManagedRulesCommonRuleSet"),
)
IP_REPUTATION_GROUP = "AWSManagedRulesAmazonIpReputationList"
ANONYMOUS_IP_GROUP = "AWSManagedRulesAnonymousIpList"
# Merchants and processors call from cloud hosts: that rule of the anonymous-IP group only
# counts (visible in metrics and logs); Tor exits, VPNs and open proxies are blocked.
ANONYMOUS_IP_COUNTED_RULES = ("HostingProviderIPList",)


class WebAcl(Construct):
    """The rules come from the edge settings (`blocked_country_codes`, `waf_*`); the WAF log is an
    audit log (`audit_log_retention_days`). `internal_cidrs` are the client addresses the per-IP
    rate rule leaves alone: the VPC, whose NLB fronts the ALB."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        context: AwsContext,
        settings: EdgeSettings,
        internal_cidrs: Sequence[str],
        logs_key_arn: str,
        protected_resource_arns: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self._naming = naming
        self.name = naming.name("waf")
        self.metric_name = naming.name("waf")
        self._internal = Wafv2IpSet(
            self,
            "internal-addresses",
            name=naming.name("waf-internal"),
            description="The VPC: the NLB in front of the ALB; not rate limited per IP",
            scope="REGIONAL",
            ip_address_version="IPV4",
            addresses=list(internal_cidrs),
        )
        self.rules = self._rules(settings)
        self.acl = Wafv2WebAcl(
            self,
            "acl",
            name=self.name,
            description="API stage and internal ALB: geo block, IP reputation, rate limit, bad inputs, SQLi, XSS",
            scope="REGIONAL",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=self.rules,
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=self.metric_name, sampled_requests_enabled=True
            ),
        )
        self.rule_metric_names = tuple(rule.visibility_config.metric_name for rule in self.rules)
        self.associations = {
            name: Wafv2WebAclAssociation(self, f"association-{name}", web_acl_arn=self.acl.arn, resource_arn=arn)
            for name, arn in protected_resource_arns.items()
        }
        self.log_group = self._logging(context, settings.audit_log_retention_days, logs_key_arn)

    def _rules(self, settings: EdgeSettings) -> list[Wafv2WebAclRule]:
        block = Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock())
        specs: list[tuple[str, dict[str, Any], bool]] = []
        if settings.blocked_country_codes:
            specs.append(("geo-block", {"geo_match_statement": {"country_codes": list(settings.blocked_country_codes)}}, False))
        if settings.waf_ip_reputation_enabled:
            specs.append(("ip-reputation", _managed(IP_REPUTATION_GROUP), True))
        if settings.waf_anonymous_ip_enabled:
            specs.append(("anonymous-ip", _managed(ANONYMOUS_IP_GROUP, count_only=ANONYMOUS_IP_COUNTED_RULES), True))
        specs.append(
            (
                "rate-limit-per-ip",
                {
                    "rate_based_statement": {
                        "limit": settings.waf_requests_per_five_minutes_per_ip,
                        "aggregate_key_type": "IP",
                        "evaluation_window_sec": RATE_WINDOW_SECONDS,
                        "scope_down_statement": {
                            "not_statement": {"statement": {"ip_set_reference_statement": {"arn": self._internal.arn}}}
                        },
                    }
                },
                False,
            )
        )
        specs += [(name, _managed(group), True) for name, group in MANAGED_RULE_GROUPS]
        return [
            Wafv2WebAclRule(
                name=name,
                priority=priority,
                statement=statement,
                # A managed group's own rules decide (block); ours block on match.
                override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()) if managed else None,
                action=None if managed else block,
                visibility_config=Wafv2WebAclRuleVisibilityConfig(
                    cloudwatch_metrics_enabled=True,
                    metric_name=self._naming.name("waf", name),
                    sampled_requests_enabled=True,
                ),
            )
            for priority, (name, statement, managed) in enumerate(specs)
        ]

    def _logging(self, context: AwsContext, retention_days: int, logs_key_arn: str) -> CloudwatchLogGroup:
        group = CloudwatchLogGroup(
            self,
            "log-group",
            name=f"{WAF_LOG_GROUP_PREFIX}{self._naming.name('waf')}",
            retention_in_days=retention_days,
            kms_key_id=logs_key_arn,
        )
        # WAF delivers through CloudWatch Logs' vended-log service; without this policy WAF
        # would add an account-wide one of its own on first use.
        delivery = DataAwsIamPolicyDocument(
            self,
            "delivery-policy",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid="WafLogDelivery",
                    effect="Allow",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[f"{group.arn}:*"],
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[LOG_DELIVERY])],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="StringEquals", variable="aws:SourceAccount", values=[context.account_id]
                        ),
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="ArnLike", variable="aws:SourceArn", values=[context.arn("logs", "*")]
                        ),
                    ],
                )
            ],
        )
        resource_policy = CloudwatchLogResourcePolicy(
            self, "delivery", policy_name=self._naming.name("waf-log-delivery"), policy_document=delivery.json
        )
        Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            resource_arn=self.acl.arn,
            log_destination_configs=[group.arn],
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(
                    single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header)
                )
                for header in REDACTED_HEADERS
            ],
            depends_on=[resource_policy],
        )
        return group


def _managed(group_name: str, *, count_only: tuple[str, ...] = ()) -> dict[str, Any]:
    statement: dict[str, Any] = {"name": group_name, "vendor_name": "AWS"}
    if count_only:
        statement["rule_action_override"] = [{"name": rule, "action_to_use": {"count": {}}} for rule in count_only]
    return {"managed_rule_group_statement": statement}

