"""A stage of the REST API: its deployment, X-Ray, JSON access logs, execution logs and throttling."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from cdktf import Fn, TerraformResource, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_method_settings import ApiGatewayMethodSettings, ApiGatewayMethodSettingsSettings
from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage, ApiGatewayStageAccessLogSettings
from constructs import Construct

from components.compliance import skip_check
from components.security.log_groups import AUDIT_RETENTION_DAYS, encrypted_log_group
from config.settings import EdgeSettings

# One JSON object per request. Identity, timing and outcome only: no body, no query string,
# no header values (PCI DSS: card data never reaches a log), and the API key's id, never the key.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.identity.caller",
    "user": "$context.identity.user",
    "userAgent": "$context.identity.userAgent",
    "apiKeyId": "$context.identity.apiKeyId",
    "requestTime": "$context.requestTime",
    "requestTimeEpoch": "$context.requestTimeEpoch",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationStatus": "$context.integration.status",
    "integrationLatency": "$context.integration.latency",
    "errorType": "$context.error.responseType",
    "wafResponseCode": "$context.wafResponseCode",
    "xrayTraceId": "$context.xrayTraceId",
}
ALL_METHODS = "*/*"
# The name API Gateway writes execution logs to; created here first, so it gets our key and retention.
EXECUTION_LOG_GROUP_PREFIX = "API-Gateway-Execution-Logs_"
# Terraform's meta-arguments and cdktf's metadata: how Terraform handles a resource, not what it is.
META_ARGUMENTS = frozenset({"//", "connection", "count", "depends_on", "for_each", "lifecycle", "provider", "provisioner"})


# Text cdktf cannot write into a Terraform expression as it is (it escapes newlines, not quotes).
NOT_EXPRESSION_SAFE = re.compile(r'["\\\n]|\$\{|%\{')


def configured_arguments(resource: TerraformResource) -> dict[str, Any]:
    """The arguments the stack gives `resource`, as synthesized: literal values and references to
    other resources' ids, never an attribute the provider reads back from AWS. A literal text that
    cannot stand in an expression (the model's JSON schema) enters as its SHA-256."""
    (body,) = resource.to_terraform()["resource"][resource.terraform_resource_type].values()
    return {name: _expression_safe(value) for name, value in body.items() if name not in META_ARGUMENTS}


def _expression_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _expression_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_expression_safe(item) for item in value]
    if isinstance(value, str) and not Token.is_unresolved(value) and NOT_EXPRESSION_SAFE.search(value):
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest()
    return value


class ApiStage(Construct):
    """Log retention (`audit_log_retention_days` for access logs, `execution_log_retention_days`)
    and the stage's default throttle over all callers together (`stage_*`; usage plans limit
    each key) come from the edge settings."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rest_api_id: str,
        stage_name: str,
        definition: Sequence[TerraformResource],
        settings: EdgeSettings,
        access_log_group_name: str,
        logs_key_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_log_group = encrypted_log_group(
            self,
            "access-logs",
            name=access_log_group_name,
            retention_days=settings.audit_log_retention_days,
            logs_key_arn=logs_key_arn,
        )
        self.execution_log_group = encrypted_log_group(
            self,
            "execution-logs",
            name=f"{EXECUTION_LOG_GROUP_PREFIX}{rest_api_id}/{stage_name}",
            retention_days=settings.execution_log_retention_days,
            logs_key_arn=logs_key_arn,
        )
        if settings.execution_log_retention_days < AUDIT_RETENTION_DAYS:
            skip_check(
                self.execution_log_group,
                "CKV_AWS_338",
                f"execution logs (INFO, no bodies) are operational and kept {settings.execution_log_retention_days} days; "
                "the audit trail of every request is the access log and the WAF log, kept a year",
            )

        # A deployment is a snapshot of the API: when the configuration of any resource, method,
        # integration, model or validator changes (an in-place change too), or one of them is
        # replaced (its id changes), the hash changes and a new deployment replaces the old one,
        # created before the stage lets the old one go. The hash covers what the stack writes, not
        # the objects as the provider reads them back: those differ between create and refresh
        # (unset lists stored as null, then read as []; the model's schema stored compact, then
        # read as sent), which would redeploy the stage on the first plan after every deploy.
        self.deployment = ApiGatewayDeployment(
            self,
            "deployment",
            rest_api_id=rest_api_id,
            description="Managed by cdktf; re-created whenever the API definition changes",
            triggers={"redeployment": Fn.sha1(Fn.jsonencode([configured_arguments(element) for element in definition]))},
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            depends_on=list(definition),
        )
        self.stage = ApiGatewayStage(
            self,
            "stage",
            rest_api_id=rest_api_id,
            stage_name=stage_name,
            deployment_id=self.deployment.id,
            description="The environment's stage",
            xray_tracing_enabled=True,
            cache_cluster_enabled=False,
            access_log_settings=ApiGatewayStageAccessLogSettings(
                destination_arn=self.access_log_group.arn,
                format=json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":")),
            ),
            depends_on=[self.execution_log_group],
        )
        skip_check(
            self.stage,
            "CKV_AWS_120",
            "no response cache: every POST /transactions is a new transaction and every fraud-api answer is per request "
            "and per caller, so a cached response would be another request's decision",
        )
        skip_check(
            self.stage,
            "CKV2_AWS_51",
            "a client certificate proves API Gateway to an internet-facing backend; these backends have no internet path "
            "(the ALB is internal behind the VPC link, the Lambda is invoked through IAM with a source-ARN-scoped permission)",
        )
        self.method_settings = ApiGatewayMethodSettings(
            self,
            "all-methods",
            rest_api_id=rest_api_id,
            stage_name=self.stage.stage_name,
            method_path=ALL_METHODS,
            settings=ApiGatewayMethodSettingsSettings(
                metrics_enabled=True,
                logging_level="INFO",
                # Full request/response logging would write card data into CloudWatch (PCI DSS).
                data_trace_enabled=False,
                throttling_rate_limit=settings.stage_rate_limit_per_second,
                throttling_burst_limit=settings.stage_burst_limit,
                caching_enabled=False,
                cache_data_encrypted=True,
            ),
        )
        skip_check(
            self.method_settings,
            "CKV_AWS_225",
            "no response cache on any method (see the stage): a cached fraud decision would answer another request; "
            "should caching ever be enabled, cache_data_encrypted is already on",
        )
