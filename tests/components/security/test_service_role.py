"""Service roles name one principal, and carry the confused-deputy conditions when asked; every
role's trust policy comes from the one builder."""

from __future__ import annotations

import json

from components.security.policy_statements import allow
from components.security.service_role import ServiceRole, TrustConditions, trust_policy


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


def test_trust_builder_names_the_statement_and_guards_by_account_alone(bare_stack):
    stack, synth = bare_stack
    trust_policy(
        stack,
        "trust",
        service_principal="lambda.amazonaws.com",
        trust=TrustConditions(source_account="111122223333"),
        sid="LambdaInThisAccount",
        effect=None,
    )
    statement = _trust(synth())
    assert statement["sid"] == "LambdaInThisAccount"
    assert "effect" not in statement, "left to the document's default, Allow"
    assert statement["actions"] == ["sts:AssumeRole"]
    assert statement["principals"] == [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]
    assert statement["condition"] == [{"test": "StringEquals", "variable": "aws:SourceAccount", "values": ["111122223333"]}]


def test_service_role_trust_states_its_effect_and_has_no_sid(bare_stack):
    stack, synth = bare_stack
    ServiceRole(stack, "role", name="fraud-z-test", description="test", service_principal="sns.amazonaws.com", trust=None)
    statement = _trust(synth())
    assert statement["effect"] == "Allow"
    assert "sid" not in statement
