"""The account-level CloudWatch role writes only API Gateway's log groups."""

from __future__ import annotations

from components.aws_context import AwsContext
from components.edge.api_gateway_account import ApiGatewayLoggingRole


def test_role_is_scoped_to_stage_log_groups_and_set_after_its_policy(bare_stack):
    stack, synth = bare_stack
    ApiGatewayLoggingRole(stack, "logging", role_name="fraud-apigw-test", context=AwsContext(stack, "context"), access_log_group_pattern="/fraud-detection/*/api-gateway/*")
    config = synth()
    documents = config["data"]["aws_iam_policy_document"]
    statements = [statement for document in documents.values() for statement in document["statement"]]
    trust = [statement for statement in statements if statement["actions"] == ["sts:AssumeRole"]]
    assert [principal["identifiers"] for statement in trust for principal in statement["principals"]] == [["apigateway.amazonaws.com"]]
    permissions = [statement for statement in statements if statement not in trust]
    resources = [resource for statement in permissions for resource in statement["resources"]]
    assert "*" not in resources
    assert all(":log-group:" in resource for resource in resources)
    assert not any(action.endswith("*") for statement in permissions for action in statement["actions"])
    account = next(iter(config["resource"]["aws_api_gateway_account"].values()))
    assert any(dependency.startswith("aws_iam_role_policy.") for dependency in account["depends_on"])
