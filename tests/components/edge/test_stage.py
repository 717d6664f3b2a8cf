"""The stage: a deployment hashed over the definition, logs encrypted, a short retention explained."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from components.edge.stage import ApiStage
from config.settings import EdgeSettings


def _settings(execution_days: int = 30, stage_rate_limit: int = 50) -> EdgeSettings:
    return EdgeSettings(
        hosted_zone_name="example.com",
        api_subdomain="api",
        audit_log_retention_days=365,
        execution_log_retention_days=execution_days,
        stage_rate_limit_per_second=stage_rate_limit,
        stage_burst_limit=100,
    )


def _stage(stack, execution_days: int):
    from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource

    parts = [ApiGatewayResource(stack, f"part-{index}", rest_api_id="api", parent_id="root", path_part=f"p{index}") for index in range(2)]
    return ApiStage(
        stack,
        "stage",
        rest_api_id="api",
        stage_name="test",
        definition=parts,
        settings=_settings(execution_days),
        access_log_group_name="/fraud-detection/test/api-gateway/access",
        logs_key_arn="arn:aws:kms:us-east-1:111122223333:key/logs",
    )


def _trigger(*, path_part: str = "transactions", api_key_required: bool = True, schema: str = '{"type": "object"}', settings: EdgeSettings | None = None) -> str:
    """The redeployment trigger of a small API (a model, a resource, a method under it) in a stack of its own."""
    from cdktf import Testing, TerraformStack
    from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
    from cdktf_cdktf_provider_aws.api_gateway_model import ApiGatewayModel
    from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
    from cdktf_cdktf_provider_aws.api_gateway_rest_api import ApiGatewayRestApi
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    stack = TerraformStack(Testing.app(), "api")
    AwsProvider(stack, "aws", region="us-east-1")
    api = ApiGatewayRestApi(stack, "api", name="api")
    model = ApiGatewayModel(stack, "model", rest_api_id=api.id, name="Body", content_type="application/json", schema=schema)
    resource = ApiGatewayResource(stack, "resource", rest_api_id=api.id, parent_id=api.root_resource_id, path_part=path_part)
    method = ApiGatewayMethod(
        stack, "method", rest_api_id=api.id, resource_id=resource.id, http_method="POST", authorization="NONE",
        api_key_required=api_key_required, request_models={"application/json": model.name},
    )
    ApiStage(
        stack, "stage", rest_api_id=api.id, stage_name="test", definition=[model, resource, method], settings=settings or _settings(),
        access_log_group_name="/fraud-detection/test/api-gateway/access", logs_key_arn="arn:aws:kms:us-east-1:111122223333:key/logs",
    )
    config = json.loads((Path(Testing.full_synth(stack)) / "stacks" / "api" / "cdk.tf.json").read_text())
    return next(iter(config["resource"]["aws_api_gateway_deployment"].values()))["triggers"]["redeployment"]


@pytest.mark.parametrize("days, skipped", [(30, True), (365, False)])
def test_execution_logs_under_a_year_carry_their_reason(bare_stack, days, skipped):
    stack, synth = bare_stack
    _stage(stack, days)
    groups = synth()["resource"]["aws_cloudwatch_log_group"]
    (execution,) = [body for body in groups.values() if body["name"] == "API-Gateway-Execution-Logs_api/test"]
    assert ("CKV_AWS_338" in execution.get("//", {}).get("checkov_skip", {})) is skipped
    assert all(body["kms_key_id"].endswith("key/logs") for body in groups.values())


def test_the_redeployment_trigger_changes_with_the_api_definition_and_only_with_it():
    baseline = _trigger()
    assert _trigger() == baseline, "the same definition must hash the same, synth after synth"
    # Anything that defines the API: a path, an in-place change of a method, the model's schema.
    for changed in (_trigger(path_part="payments"), _trigger(api_key_required=False), _trigger(schema='{"type": "array"}')):
        assert changed != baseline
    # The stage's own settings are not part of the deployment's snapshot.
    assert _trigger(settings=_settings(execution_days=90, stage_rate_limit=500)) == baseline
    # What the elements reference enters as their ids (replaced element, new id, new deployment);
    # never as a whole object read back from AWS, which a refresh rewrites without any change.
    assert "aws_api_gateway_resource.resource.id" in baseline and "aws_api_gateway_rest_api.api.root_resource_id" in baseline
    assert "aws_api_gateway_resource.resource," not in baseline and "aws_api_gateway_method.method" not in baseline
    # A text that cannot stand inside a Terraform expression (quotes, newlines) enters as its digest.
    schema = '{\n  "type": "object"\n}'
    assert f'"schema" = "sha256:{hashlib.sha256(schema.encode()).hexdigest()}"' in _trigger(schema=schema)


def test_throttle_applies_to_all_methods(bare_stack):
    stack, synth = bare_stack
    _stage(stack, 30)
    resources = synth()["resource"]
    settings = next(iter(resources["aws_api_gateway_method_settings"].values()))
    assert settings["method_path"] == "*/*"
    assert (settings["settings"]["throttling_rate_limit"], settings["settings"]["throttling_burst_limit"]) == (50, 100)
