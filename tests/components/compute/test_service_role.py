"""Service roles name one principal, and carry the confused-deputy conditions when asked."""

from __future__ import annotations

import json

from components.compute.service_role import ServiceRole, TrustConditions, allow


def _trust(config: dict) -> dict:
    (document,) = [body for name, body in config["data"]["aws_iam_policy_document"].items() if "trust" in name]
    (statement,) = document["statement"]
    return statement


def test_trust_with_source_account_and_arn(bare_stack):
    stack, synth = bare_stack
    ServiceRole(
        stack,
        "role",
        name="fraud-x-test",
        description="test",
        service_principal="ecs-tasks.amazonaws.com",
        trust=TrustConditions(source_account="111122223333", source_arn_pattern="arn:aws:ecs:us-east-1:111122223333:*"),
        statements=[allow("Read", ["s3:GetObject"], ["arn:aws:s3:::bucket/*"])],
    )
    config = synth()
    statement = _trust(config)
    assert statement["principals"] == [{"type": "Service", "identifiers": ["ecs-tasks.amazonaws.com"]}]
    assert statement["condition"] == [
        {"test": "StringEquals", "variable": "aws:SourceAccount", "values": ["111122223333"]},
        {"test": "ArnLike", "variable": "aws:SourceArn", "values": ["arn:aws:ecs:us-east-1:111122223333:*"]},
    ]
    (policy,) = config["resource"]["aws_iam_role_policy"].values()
    assert policy["name"] == "fraud-x-test"
    assert "aws_iam_role_policy_attachment" not in config["resource"]


def test_trust_without_conditions_and_with_a_managed_policy(bare_stack):
    stack, synth = bare_stack
    ServiceRole(
        stack,
        "role",
        name="fraud-y-test",
        description="test",
        service_principal="codedeploy.amazonaws.com",
        trust=None,
        managed_policy_arns=["arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS"],
    )
    config = synth()
    assert "condition" not in _trust(config)
    assert "aws_iam_role_policy" not in config["resource"], "no empty inline policy"
    (attachment,) = config["resource"]["aws_iam_role_policy_attachment"].values()
    assert attachment["policy_arn"] == "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS"
    assert json.dumps(config).count("sts:AssumeRole") == 1
