"""The stage: a deployment hashed over the definition, logs encrypted, a short retention explained."""

from __future__ import annotations

import pytest

from components.edge.stage import ApiStage
from config.settings import EdgeSettings


def _stage(stack, execution_days: int):
    from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource

    parts = [ApiGatewayResource(stack, f"part-{index}", rest_api_id="api", parent_id="root", path_part=f"p{index}") for index in range(2)]
    return ApiStage(
        stack,
        "stage",
        rest_api_id="api",
        stage_name="test",
        definition=parts,
        settings=EdgeSettings(
            hosted_zone_name="example.com",
            api_subdomain="api",
            audit_log_retention_days=365,
            execution_log_retention_days=execution_days,
            stage_rate_limit_per_second=50,
            stage_burst_limit=100,
        ),
        access_log_group_name="/fraud-detection/test/api-gateway/access",
        logs_key_arn="arn:aws:kms:us-east-1:111122223333:key/logs",
    )


@pytest.mark.parametrize("days, skipped", [(30, True), (365, False)])
def test_execution_logs_under_a_year_carry_their_reason(bare_stack, days, skipped):
    stack, synth = bare_stack
    _stage(stack, days)
    groups = synth()["resource"]["aws_cloudwatch_log_group"]
    (execution,) = [body for body in groups.values() if body["name"] == "API-Gateway-Execution-Logs_api/test"]
    assert ("CKV_AWS_338" in execution.get("//", {}).get("checkov_skip", {})) is skipped
    assert all(body["kms_key_id"].endswith("key/logs") for body in groups.values())


def test_deployment_hashes_every_definition_element_and_throttle_applies_to_all_methods(bare_stack):
    stack, synth = bare_stack
    _stage(stack, 30)
    resources = synth()["resource"]
    trigger = next(iter(resources["aws_api_gateway_deployment"].values()))["triggers"]["redeployment"]
    assert all(f"aws_api_gateway_resource.{name}" in trigger for name in resources["aws_api_gateway_resource"])
    settings = next(iter(resources["aws_api_gateway_method_settings"].values()))
    assert settings["method_path"] == "*/*"
    assert (settings["settings"]["throttling_rate_limit"], settings["settings"]["throttling_burst_limit"]) == (50, 100)
