"""The API definition: the model is the schema file, every method needs a key."""

from __future__ import annotations

import json

import pytest

from components.edge.rest_api import FraudApiRoute, FraudRestApi, TransactionsRoute

SCHEMA = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "required": ["id"]}


def _api(stack, naming, schema_file):
    return FraudRestApi(
        stack,
        "api",
        naming=naming,
        transactions=TransactionsRoute(
            function_name="fraud-processor-test",
            invoke_arn="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn/invocations",
            schema_file=schema_file,
        ),
        fraud_api=FraudApiRoute(host="api-test.example.com", vpc_link_id="link-1"),
        stage_name="test",
        account_id="111122223333",
    )


def test_model_is_the_schema_file_verbatim(bare_stack, naming, tmp_path):
    stack, synth = bare_stack
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(SCHEMA, indent=3))
    _api(stack, naming, schema_file)
    model = next(iter(synth()["resource"]["aws_api_gateway_model"].values()))
    assert model["schema"] == schema_file.read_text()
    assert model["content_type"] == "application/json"


def test_a_broken_schema_file_stops_synth(bare_stack, naming, tmp_path):
    stack, _ = bare_stack
    schema_file = tmp_path / "schema.json"
    schema_file.write_text('{"type": "object",')
    with pytest.raises(json.JSONDecodeError):
        _api(stack, naming, schema_file)


def test_every_method_needs_a_key_and_is_in_the_deployment_definition(bare_stack, naming, tmp_path):
    stack, synth = bare_stack
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(SCHEMA))
    api = _api(stack, naming, schema_file)
    resources = synth()["resource"]
    methods = resources["aws_api_gateway_method"]
    assert len(methods) == 2 and all(body["api_key_required"] is True for body in methods.values())
    assert all(body["request_validator_id"] for body in methods.values())
    defined = {(element.terraform_resource_type, element.friendly_unique_id) for element in api.definition}
    for resource_type in ("aws_api_gateway_resource", "aws_api_gateway_method", "aws_api_gateway_integration", "aws_api_gateway_model", "aws_api_gateway_request_validator"):
        assert {(resource_type, name) for name in resources[resource_type]} <= defined, resource_type


def test_only_this_stage_of_this_api_in_this_account_may_invoke_the_processor(bare_stack, naming, tmp_path):
    stack, synth = bare_stack
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(SCHEMA))
    _api(stack, naming, schema_file)
    resources = synth()["resource"]
    (api_id,) = resources["aws_api_gateway_rest_api"]
    (permission,) = resources["aws_lambda_permission"].values()
    assert permission["source_arn"] == f"${{aws_api_gateway_rest_api.{api_id}.execution_arn}}/test/POST/transactions"
    assert (permission["source_account"], permission["function_name"]) == ("111122223333", "fraud-processor-test")
