"""A stage of the REST API: its deployment, X-Ray, JSON access logs, execution logs and throttling."""

from __future__ import annotations

import json
from collections.abc import Sequence

from cdktf import Fn, TerraformResource, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_method_settings import ApiGatewayMethodSettings, ApiGatewayMethodSettingsSettings
from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage, ApiGatewayStageAccessLogSettings
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from constructs import Construct

from components.compliance import skip_check
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
        self.access_log_group = CloudwatchLogGroup(
            self,
            "access-logs",
            name=access_log_group_name,
            retention_in_days=settings.audit_log_retention_days,
            kms_key_id=logs_key_arn,
        )
        self.execution_log_group = CloudwatchLogGroup(
            self,
            "execution-logs",
            name=f"{EXECUTION_LOG_GROUP_PREFIX}{rest_api_id}/{stage_name}",
            retention_in_days=settings.execution_log_retention_days,
            kms_key_id=logs_key_arn,
        )
        if settings.execution_log_retention_days < 365:
            skip_check(
                self.execution_log_group,
                "CKV_AWS_338",
                f"execution logs (INFO, no bodies) are operational and kept {settings.execution_log_retention_days} days; "
                "the audit trail of every request is the access log and the WAF log, kept a year",
            )

        # A deployment is a snapshot of the API: when any resource, method, integration or model
        # changes (whole objects, so an in-place change counts too), the hash changes and a new
        # deployment replaces the old one, created before the stage lets the old one go.
        self.deployment = ApiGatewayDeployment(
            self,
            "deployment",
            rest_api_id=rest_api_id,
            description="Managed by cdktf; re-created whenever the API definition changes",
            triggers={"redeployment": Fn.sha1(Fn.jsonencode([element.fqn for element in definition]))},
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
