"""API Gateway's account-level CloudWatch role: a per-account, per-region singleton.

Every REST API stage of the account writes its access and execution logs with this one role, so
it belongs to the account's bootstrap (step 0), not to an environment: several environments in
one account would otherwise overwrite each other's setting, and destroying one would break the
logging of the others.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from components.aws_context import AwsContext

# The name API Gateway gives each stage's execution log group.
EXECUTION_LOG_GROUPS = "API-Gateway-Execution-Logs_*"


class ApiGatewayLoggingRole(Construct):
    """`access_log_group_pattern` names the stages' access log groups (e.g. `/fraud-detection/*/api-gateway/*`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role_name: str,
        context: AwsContext,
        access_log_group_pattern: str,
    ) -> None:
        super().__init__(scope, construct_id)
        # API Gateway documents no aws:SourceAccount/SourceArn for assuming this role; setting it
        # as the account's role needs iam:PassRole in this account, so no other account can use it.
        trust = DataAwsIamPolicyDocument(
            self,
            "trust",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    effect="Allow",
                    actions=["sts:AssumeRole"],
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=["apigateway.amazonaws.com"])],
                )
            ],
        )
        groups = [context.arn("logs", f"log-group:{pattern}") for pattern in (EXECUTION_LOG_GROUPS, access_log_group_pattern)]
        # AWS's AmazonAPIGatewayPushToCloudWatchLogs grants these on "*"; here only the groups
        # API Gateway writes to (a log stream's ARN is its group's ARN plus `:log-stream:<name>`).
        permissions = DataAwsIamPolicyDocument(
            self,
            "permissions",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid="WriteStageLogs",
                    effect="Allow",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=groups,
                ),
                # The edge stack creates each execution log group first (with its key and
                # retention); API Gateway still checks and would create a missing one.
                DataAwsIamPolicyDocumentStatement(
                    sid="CreateExecutionLogGroups",
                    effect="Allow",
                    actions=["logs:CreateLogGroup"],
                    resources=[groups[0]],
                ),
                # Listing log groups is authorized on the account's log-group namespace only.
                DataAwsIamPolicyDocumentStatement(
                    sid="FindLogGroups",
                    effect="Allow",
                    actions=["logs:DescribeLogGroups"],
                    resources=[context.arn("logs", "log-group:*")],
                ),
            ],
        )
        self.role = IamRole(
            self,
            "role",
            name=role_name,
            description="API Gateway writes every stage's access and execution logs of this account and region",
            assume_role_policy=trust.json,
        )
        policy = IamRolePolicy(self, "policy", name=role_name, role=self.role.id, policy=permissions.json)
        # API Gateway tests the role when the setting is made: the permissions must be in place.
        self.account = ApiGatewayAccount(
            self,
            "account",
            cloudwatch_role_arn=self.role.arn,
            # Destroying the bootstrap clears the setting rather than leaving a deleted role in it.
            reset_on_delete=True,
            depends_on=[policy],
        )
