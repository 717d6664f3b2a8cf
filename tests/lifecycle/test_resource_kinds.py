"""The catalogue of what each declared resource type is in the account: complete, and each kind's lookups answer."""

from __future__ import annotations

import pytest

from lifecycle.orphans import scan_environment
from lifecycle.resource_kinds import NAMED_KINDS, PARTS, TAGGED_KINDS, Account, Resolver
from stacks.layers import Layer


def test_every_type_any_layer_declares_is_named_tagged_or_a_part_of_another(synthesis, emulator_synthesis):
    declared = {resource_type for stack in synthesis.stacks() for resource_type, _, _ in stack.all_resources()}
    declared |= {resource_type for name, config in emulator_synthesis.items() if name != "bootstrap" for resource_type in config.get("resource", {})}
    named, tagged, parts = set(NAMED_KINDS), set(TAGGED_KINDS), set(PARTS)
    assert not named & tagged and not named & parts and not tagged & parts
    assert declared <= named | tagged | parts, f"not catalogued: {sorted(declared - named - tagged - parts)}"
    # The network's anonymous core, which a killed network apply duplicates on the next one; and what fails on AlreadyExists.
    assert {"aws_vpc", "aws_subnet", "aws_nat_gateway", "aws_eip", "aws_security_group"} <= tagged
    assert {"aws_s3_bucket", "aws_kms_alias", "aws_iam_role", "aws_cloudwatch_log_group", "aws_sqs_queue", "aws_sns_topic",
            "aws_rds_cluster_parameter_group", "aws_secretsmanager_secret", "aws_ssm_parameter"} <= named
    assert all(PARTS.values())


ACCOUNT = Account(clients=None, account_id="123456789012", region="eu-west-1", partition="aws", environment="dev", project="fraud-detection")


def test_names_are_resolved_from_literals_the_account_another_resource_and_another_layers_outputs():
    producer = Resolver({
        "resource": {"aws_lambda_function": {"fn": {"function_name": "fraud-processor-dev"}}},
        "output": {"fn-name": {"value": "${aws_lambda_function.fn.function_name}"}},
    }, ACCOUNT)
    consumer = Resolver({
        "data": {"terraform_remote_state": {"compute": {"config": {"key": "dev/compute.tfstate"}}}},
        "resource": {
            "aws_s3_bucket": {"logs": {"bucket": "fraud-logs-dev-${data.aws_caller_identity.caller.account_id}"}},
            "aws_iam_role": {"role": {"name": "fraud-role-dev"}},
            "aws_iam_role_policy": {"policy": {"role": "${aws_iam_role.role.id}", "name": "p"}},
            "aws_cloudwatch_log_group": {
                "sns": {"name": "sns/${data.aws_region.here.name}/${data.aws_caller_identity.caller.account_id}/alerts"},
                "api": {"name": "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.api.id}/dev"},
            },
            "aws_lambda_permission": {"invoke": {"function_name": "${data.terraform_remote_state.compute.outputs.fn-name}"}},
            "aws_route53_record": {"validation": {"name": "${tolist(aws_acm_certificate.c.domain_validation_options)[0].resource_record_name}"}},
        },
    }, ACCOUNT, producers={"dev/compute.tfstate": producer})
    resources = consumer.config["resource"]
    assert consumer.value(resources["aws_s3_bucket"]["logs"], "bucket") == "fraud-logs-dev-123456789012"
    assert consumer.value(resources["aws_iam_role_policy"]["policy"], "role") == "fraud-role-dev"
    assert consumer.value(resources["aws_cloudwatch_log_group"]["sns"], "name") == "sns/eu-west-1/123456789012/alerts"
    assert consumer.value(resources["aws_lambda_permission"]["invoke"], "function_name") == "fraud-processor-dev"
    # Made up by the account, or computed by a function: only known once Terraform runs.
    assert consumer.value(resources["aws_cloudwatch_log_group"]["api"], "name") is None
    assert consumer.value(resources["aws_route53_record"]["validation"], "name") is None
    # ...unless the layer's state holds it, or the producer's state holds the output.
    consumer.state = {"aws_api_gateway_rest_api.api": {"id": "a1b2c3"}}
    assert consumer.value(resources["aws_cloudwatch_log_group"]["api"], "name") == "API-Gateway-Execution-Logs_a1b2c3/dev"
    consumer.outputs = {"dev/compute.tfstate": {"fn-name": "renamed-in-state"}}
    assert consumer.value(resources["aws_lambda_permission"]["invoke"], "function_name") == "renamed-in-state"


@pytest.fixture
def empty_account(monkeypatch, emulator_additions):
    from moto import mock_aws

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    with mock_aws():
        yield


class Clients:
    def __init__(self, region: str) -> None:
        import boto3

        self.session = boto3.session.Session(region_name=region)

    def client(self, service: str):
        return self.session.client(service)


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_in_an_empty_account_every_declared_resource_is_looked_for_and_none_is_found(synthesis, empty_account, environment):
    """Each kind's not-found answers are understood (moto's, which are AWS's), and no declared resource is left
    unchecked once its producers' stacks are known, even before anything is deployed."""
    import boto3

    config = synthesis.environments[environment]
    boto3.client("route53").create_hosted_zone(Name=config.edge.hosted_zone_name, CallerReference="zone")
    configs = {layer: synthesis.stack(layer, environment).config for layer in Layer}
    account = Account(Clients(config.region), "123456789012", config.region, "aws", environment, config.project)
    live, scan = scan_environment(account, configs, {layer: None for layer in Layer})
    assert live == []
    assert scan.unchecked == []
    looked_for = {declared.resource_type for declared in scan.declared}
    assert {"aws_kms_alias", "aws_iam_role", "aws_sqs_queue", "aws_vpc", "aws_route53_record"} <= looked_for
