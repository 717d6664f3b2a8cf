"""The WAF web ACL in front of the API stage, with its CloudWatch log.

Rules, cheapest and most decisive first: countries on the blocked list, AWS's IP reputation and
anonymous-IP lists, the rate limits, then AWS's managed groups for known bad inputs (Log4Shell and
the like), SQL injection and the common rule set (XSS, oversize bodies, LFI/RFI...).

Rate limits follow the usage plans (docs/edge.md, "WAF"): requests without an API key are limited
per IP (API Gateway refuses them anyway); requests with a key are limited per key on each route,
and per IP over all keys, always above what the key's usage plan admits in WAF's window, so a
client within its plan is never blocked by WAF and API Gateway answers 429 when it goes beyond.
The per-IP limit on keyed requests bounds a flood of made-up keys from one address.

The ACL guards the stage only. The internal ALB behind the VPC link is reached by nothing but the
edge NLB (docs/edge.md, "No bypass"): there it would see the NLB's private addresses, so no
address rule could ever match, and its content rules would inspect again exactly what passed here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.cloudwatch_log_resource_policy import CloudwatchLogResourcePolicy
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
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
from components.edge.rest_api import ApiRoute
from components.edge.usage_plans import PlanLimits
from components.naming import ResourceNamer
from components.security.log_groups import encrypted_log_group
from config.settings import WAF_RATE_WINDOW_SECONDS, EdgeSettings, waf_limit_above

# WAF delivers to CloudWatch Logs only into groups whose name starts with this.
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"
# The header API Gateway reads the API key from (header names as WAF matches them: lowercase).
API_KEY_HEADER = "x-api-key"
# Credentials never reach the WAF log.
REDACTED_HEADERS = ("authorization", API_KEY_HEADER)
LOG_DELIVERY = "delivery.logs.amazonaws.com"
# A resource path ending in this matches every path below it.
GREEDY_PATH_PARAMETER = "{proxy+}"
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
_AS_IS = [{"priority": 0, "type": "NONE"}]


@dataclass(frozen=True)
class KeyedRoute:
    """Requests with an API key on one route of the API, and the usage plan of the consumers the
    route belongs to: WAF limits each key there just above what `limits` admits."""

    route: ApiRoute
    limits: PlanLimits


class WebAcl(Construct):
    """The rules come from the edge settings (`blocked_country_codes`, `waf_*`) and the keyed
    routes' plans; the WAF log is an audit log (`audit_log_retention_days`). `stage_name` is the
    first path segment of requests that come through the stage's execute-api URL."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        context: AwsContext,
        settings: EdgeSettings,
        stage_name: str,
        keyed_routes: Sequence[KeyedRoute],
        logs_key_arn: str,
        protected_resource_arns: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self._naming = naming
        self.name = naming.name("waf")
        self.metric_name = naming.name("waf")
        self.rules = self._rules(settings, stage_name, keyed_routes)
        self.acl = Wafv2WebAcl(
            self,
            "acl",
            name=self.name,
            description="API stage: geo block, IP reputation, rate limits per IP and per API key, bad inputs, SQLi, XSS",
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

    def _rules(self, settings: EdgeSettings, stage_name: str, keyed_routes: Sequence[KeyedRoute]) -> list[Wafv2WebAclRule]:
        block = Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock())
        specs: list[tuple[str, dict[str, Any], bool]] = []
        if settings.blocked_country_codes:
            specs.append(("geo-block", {"geo_match_statement": {"country_codes": list(settings.blocked_country_codes)}}, False))
        if settings.waf_ip_reputation_enabled:
            specs.append(("ip-reputation", _managed(IP_REPUTATION_GROUP), True))
        if settings.waf_anonymous_ip_enabled:
            specs.append(("anonymous-ip", _managed(ANONYMOUS_IP_GROUP, count_only=ANONYMOUS_IP_COUNTED_RULES), True))

        per_key = {
            keyed.route.name: (
                keyed,
                waf_limit_above(keyed.limits.rate_limit_per_second, keyed.limits.burst_limit, settings.waf_keyed_limit_headroom),
            )
            for keyed in keyed_routes
        }
        keyless = _rate(settings.waf_keyless_requests_per_minute_per_ip, scope_down={"not_statement": {"statement": _has_api_key()}})
        specs.append(("rate-keyless-per-ip", keyless, False))
        # One address may carry one key of each consumer kind, each at its plan's full rate.
        keyed_per_ip = _rate(sum(limit for _, limit in per_key.values()), scope_down=_has_api_key())
        specs.append(("rate-keyed-per-ip", keyed_per_ip, False))
        for name, (keyed, limit) in per_key.items():
            on_route = [_has_api_key(), _path_matches(keyed.route, stage_name)]
            if keyed.route.http_method != "ANY":
                on_route.append(_method_is(keyed.route.http_method))
            statement = _rate(limit, scope_down={"and_statement": {"statement": on_route}}, per_header=API_KEY_HEADER)
            specs.append((f"rate-per-key-{name}", statement, False))

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
        group = encrypted_log_group(
            self, "log-group", name=f"{WAF_LOG_GROUP_PREFIX}{self._naming.name('waf')}", retention_days=retention_days, logs_key_arn=logs_key_arn
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


def _rate(limit: int, *, scope_down: dict[str, Any], per_header: str | None = None) -> dict[str, Any]:
    """A rate-based statement over WAF_RATE_WINDOW_SECONDS: per client IP, or per value of a header.
    Only requests matching `scope_down` are counted, and only they are blocked."""
    statement: dict[str, Any] = {
        "limit": limit,
        "evaluation_window_sec": WAF_RATE_WINDOW_SECONDS,
        "scope_down_statement": scope_down,
    }
    if per_header:
        statement["aggregate_key_type"] = "CUSTOM_KEYS"
        statement["custom_key"] = [{"header": {"name": per_header, "text_transformation": _AS_IS}}]
    else:
        statement["aggregate_key_type"] = "IP"
    return {"rate_based_statement": statement}


def _has_api_key() -> dict[str, Any]:
    """The request carries a non-empty API key header (an empty one counts as none)."""
    return {
        "size_constraint_statement": {
            "comparison_operator": "GE",
            "size": 1,
            "field_to_match": {"single_header": {"name": API_KEY_HEADER}},
            "text_transformation": _AS_IS,
        }
    }


def _path_matches(route: ApiRoute, stage_name: str) -> dict[str, Any]:
    """The route's paths, called under the custom domain (`/transactions`) or through the stage's
    execute-api URL (`/<stage>/transactions`); a greedy path parameter matches everything below."""
    if route.resource_path.endswith(GREEDY_PATH_PARAMETER):
        path = re.escape(route.resource_path.removesuffix(GREEDY_PATH_PARAMETER)) + ".+"
    else:
        path = re.escape(route.resource_path)
    return {
        "regex_match_statement": {
            "regex_string": f"^(/{re.escape(stage_name)})?{path}$",
            "field_to_match": {"uri_path": {}},
            "text_transformation": _AS_IS,
        }
    }


def _method_is(http_method: str) -> dict[str, Any]:
    return {
        "byte_match_statement": {
            "positional_constraint": "EXACTLY",
            "search_string": http_method,
            "field_to_match": {"method": {}},
            "text_transformation": _AS_IS,
        }
    }


def _managed(group_name: str, *, count_only: tuple[str, ...] = ()) -> dict[str, Any]:
    statement: dict[str, Any] = {"name": group_name, "vendor_name": "AWS"}
    if count_only:
        statement["rule_action_override"] = [{"name": rule, "action_to_use": {"count": {}}} for rule in count_only]
    return {"managed_rule_group_statement": statement}

