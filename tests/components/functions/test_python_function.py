"""PythonFunction in a bare stack: what every function of the platform gets, and only that."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
import cdktf
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement

import components.functions.python_function as python_function
from components.aws_context import AwsContext
from components.functions.python_function import FunctionPlacement, LambdaBundle, PythonFunction, lambda_bundle
from components.naming import ResourceNamer
from services.lambda_packaging import LAMBDA_FUNCTIONS

NAMING = ResourceNamer(prefix="fraud", suffix="test", path_root="fraud-detection")
ENV_KEY = "arn:aws:kms:us-east-1:111111111111:key/env"
LOGS_KEY = "arn:aws:kms:us-east-1:111111111111:key/logs"
SUBNETS = ["subnet-a", "subnet-b"]
GROUP = "sg-lambda"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> LambdaBundle:
    path = tmp_path_factory.mktemp("zip") / "secret_rotation.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("secret_rotation/__init__.py", "")
    return LambdaBundle(path=path, sha256_base64=base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode())


def _synth(bundle: LambdaBundle, **overrides) -> dict:
    app = App(outdir=str(bundle.path.parent / "out"))
    stack = TerraformStack(app, "function-test")
    properties = dict(
        naming=NAMING,
        context=AwsContext(stack, "context"),
        function="secret_rotation",
        description="test function",
        timeout_seconds=30,
        memory_mb=256,
        reserved_concurrency=2,
        environment={"TABLE": "transactions"},
        environment_key_arn=ENV_KEY,
        logs_key_arn=LOGS_KEY,
        log_retention_days=365,
        placement=FunctionPlacement(subnet_ids=SUBNETS, security_group_id=GROUP),
        policy_statements=[
            DataAwsIamPolicyDocumentStatement(sid="ReadTable", actions=["dynamodb:GetItem"], resources=["arn:table"])
        ],
        bundle=bundle,
    )
    properties.update(overrides)
    PythonFunction(stack, "fn", **properties)
    return json.loads(cdktf.Testing.synth(stack))


def _one(config: dict, resource_type: str) -> tuple[str, dict]:
    (item,) = config["resource"][resource_type].items()
    return item


def _statements(config: dict, fragment: str) -> dict[str, dict]:
    (document,) = [body for name, body in config["data"]["aws_iam_policy_document"].items() if fragment in name]
    return {statement["sid"]: statement for statement in document["statement"]}


@pytest.fixture(scope="module")
def plain(bundle):
    return _synth(bundle)


def test_log_group_is_encrypted_kept_and_exists_before_the_function(plain):
    log_group_name, log_group = _one(plain, "aws_cloudwatch_log_group")
    assert log_group["name"] == "/aws/lambda/fraud-secret-rotation-test"
    assert log_group["retention_in_days"] == 365
    assert log_group["kms_key_id"] == LOGS_KEY
    _, function = _one(plain, "aws_lambda_function")
    assert f"aws_cloudwatch_log_group.{log_group_name}" in function["depends_on"]
    assert function["logging_config"]["log_group"] == f"${{aws_cloudwatch_log_group.{log_group_name}.name}}"


def test_role_is_trusted_by_lambda_of_this_account_only(plain):
    (trust,) = _statements(plain, "_trust_").values()
    assert trust["actions"] == ["sts:AssumeRole"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]
    (condition,) = trust["condition"]
    assert condition["variable"] == "aws:SourceAccount" and condition["values"][0].endswith(".account_id}")


def test_policy_grants_the_runtime_needs_plus_the_callers_statements_only(plain):
    statements = _statements(plain, "_policy_")
    assert set(statements) == {
        "WriteOwnLogs", "ActiveTracing", "DescribeVpcNetworkInterfaces", "CreateVpcNetworkInterfaces",
        "ManageVpcNetworkInterfaces", "DecryptEnvironment", "ReadTable",
    }
    log_group_name, _ = _one(plain, "aws_cloudwatch_log_group")
    assert statements["WriteOwnLogs"]["actions"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statements["WriteOwnLogs"]["resources"] == [f"${{aws_cloudwatch_log_group.{log_group_name}.arn}}:log-stream:*"]
    assert statements["DecryptEnvironment"] == {"sid": "DecryptEnvironment", "actions": ["kms:Decrypt"], "resources": [ENV_KEY]}
    # "*" only where the action has no resource-level permissions.
    wildcard = {sid for sid, statement in statements.items() if "*" in statement["resources"]}
    assert wildcard == {"ActiveTracing", "DescribeVpcNetworkInterfaces"}
    assert set(statements["ActiveTracing"]["actions"]) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    assert all(action.startswith("ec2:Describe") for action in statements["DescribeVpcNetworkInterfaces"]["actions"])
    created_in = statements["CreateVpcNetworkInterfaces"]["resources"]
    assert {resource.rsplit(":", 1)[1] for resource in created_in} == {
        "network-interface/*", "subnet/subnet-a", "subnet/subnet-b", "security-group/sg-lambda",
    }
    assert all(resource.endswith(":network-interface/*") for resource in statements["ManageVpcNetworkInterfaces"]["resources"])


def test_policy_is_attached_before_the_function_is_created(plain):
    policy_name, policy = _one(plain, "aws_iam_role_policy")
    role_name, _ = _one(plain, "aws_iam_role")
    assert policy["role"] == f"${{aws_iam_role.{role_name}.id}}"
    _, function = _one(plain, "aws_lambda_function")
    assert f"aws_iam_role_policy.{policy_name}" in function["depends_on"]
    assert function["role"] == f"${{aws_iam_role.{role_name}.arn}}"


def test_function_runs_on_arm64_python_311_traced_encrypted_in_the_vpc(plain, bundle):
    _, function = _one(plain, "aws_lambda_function")
    assert function["function_name"] == "fraud-secret-rotation-test"
    assert function["runtime"] == "python3.11"
    assert function["architectures"] == ["arm64"]
    assert function["handler"] == LAMBDA_FUNCTIONS["secret_rotation"]
    assert function["tracing_config"] == {"mode": "Active"}
    assert function["kms_key_arn"] == ENV_KEY
    assert function["environment"] == {"variables": {"TABLE": "transactions"}}
    assert function["vpc_config"] == {"subnet_ids": SUBNETS, "security_group_ids": [GROUP]}
    assert function["reserved_concurrent_executions"] == 2
    assert (function["timeout"], function["memory_size"]) == (30, 256)
    assert function["source_code_hash"] == bundle.sha256_base64
    assert function["filename"].startswith("assets/") and function["filename"].endswith("/secret_rotation.zip")
    assert "dead_letter_config" not in function
    assert "aws_lambda_function_event_invoke_config" not in plain["resource"]


def test_failure_destinations_when_given(bundle):
    config = _synth(bundle, dead_letter_queue_arn="arn:aws:sqs:dlq", on_failure_destination_arn="arn:aws:sqs:failures")
    function_name, function = _one(config, "aws_lambda_function")
    assert function["dead_letter_config"] == {"target_arn": "arn:aws:sqs:dlq"}
    _, invoke_config = _one(config, "aws_lambda_function_event_invoke_config")
    assert invoke_config["function_name"] == f"${{aws_lambda_function.{function_name}.function_name}}"
    assert invoke_config["destination_config"] == {"on_failure": {"destination": "arn:aws:sqs:failures"}}


def test_unknown_function_is_refused(bundle):
    with pytest.raises(ValueError, match="unknown Lambda function"):
        _synth(bundle, function="no_such_function")


def test_each_function_is_built_once_per_process(monkeypatch, tmp_path):
    built: list[str] = []

    def fake_build(function: str, out_dir: Path) -> Path:
        built.append(function)
        path = Path(out_dir) / f"{function}.zip"
        path.write_bytes(b"zip of " + function.encode())
        return path

    monkeypatch.setattr(python_function, "build_lambda_zip", fake_build)
    monkeypatch.setattr(python_function, "_BUNDLES", {})
    first = lambda_bundle("pattern_analyzer", out_dir=tmp_path)
    again = lambda_bundle("pattern_analyzer", out_dir=tmp_path)
    other = lambda_bundle("secret_rotation", out_dir=tmp_path)
    assert built == ["pattern_analyzer", "secret_rotation"]
    assert again is first and other is not first
    assert first.sha256_base64 == base64.b64encode(hashlib.sha256(b"zip of pattern_analyzer").digest()).decode()
