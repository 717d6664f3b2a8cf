"""API Gateway's account-level CloudWatch role: a per-account, per-region singleton.

Every REST API stage of the account writes its access and execution logs with this one role, so
it belongs to the account's bootstrap (step 0), not to an environment: several environments in
one account would otherwise overwrite each other's setting, and destroying one would break the
logging of the others.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount
from constructs import Construct

from components.aws_context import AwsContext
from components.security.policy_statements import allow
from components.security.service_role import ServiceRole

# The name API Gateway gives each stage's execution log group.
EXECUTION_LOG_GROUPS = "API-Gateway-Execution-Logs_*"


class ApiGatewayLoggingRole(ServiceRole):
    """The role, set as the account's: `access_log_group_pattern` names the stages' access log
    groups (e.g. `/fraud-detection/*/api-gateway/*`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role_name: str,
        context: AwsContext,
        access_log_group_pattern: str,
    ) -> None:
        groups = [context.arn("logs", f"log-group:{pattern}") for pattern in (EXECUTION_LOG_GROUPS, access_log_group_pattern)]
        super().__init__(
            scope,
            construct_id,
            name=role_name,
            description="API Gateway writes every stage's access and execution logs of this account and region",
            service_principal="apigateway.amazonaws.com",
            # API Gateway documents no aws:SourceAccount/SourceArn for assuming this role; setting it
            # as the account's role needs iam:PassRole in this account, so no other account can use it.
            trust=None,
            statements=[
                # AWS's AmazonAPIGatewayPushToCloudWatchLogs grants these on "*"; here only the groups
                # API Gateway writes to (a log stream's ARN is its group's ARN plus `:log-stream:<name>`).
                allow("WriteStageLogs", ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], groups),
                # The edge stack creates each execution log group first (with its key and
                # retention); API Gateway still checks and would create a missing one.
                allow("CreateExecutionLogGroups", ["logs:CreateLogGroup"], [groups[0]]),
                # Listing log groups is authorized on the account's log-group namespace only.
                allow("FindLogGroups", ["logs:DescribeLogGroups"], [context.arn("logs", "log-group:*")]),
            ],
        )
        # API Gateway tests the role when the setting is made: the permissions must be in place.
        self.account = ApiGatewayAccount(
            self,
            "account",
            cloudwatch_role_arn=self.arn,
            # Destroying the bootstrap clears the setting rather than leaving a deleted role in it.
            reset_on_delete=True,
            depends_on=[self.policy],
        )
