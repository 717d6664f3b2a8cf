"""Least privilege over every IAM policy of every stack, wherever AWS reads one.

Identity policies (role policies), trust policies (`assume_role_policy`), key policies and
resource policies (bucket, queue, topic, log-delivery) are all normalized by `policies.py`; the
rules below hold for each kind, and every exception is listed here once, with its reason, and
fails when nothing needs it any more.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from tests.security.policies import (
    IDENTITY,
    KEY,
    RESOURCE,
    TRUST,
    PolicyUse,
    managed_policy_arns,
    policy_like_values_outside_known_attributes,
    policy_uses,
)
from tests.security.synthesized import (
    BOOTSTRAP,
    ENVIRONMENTS,
    STACK_NAMES,
    Platform,
    Stack,
    references_in,
)

# Actions allowed on Resource "*" in identity policies, because AWS defines no resource for them
# (Service Authorization Reference: the action lists no resource type). Everything else names ARNs.
RESOURCE_STAR_ACTIONS: dict[str, str] = {
    "xray:PutTraceSegments": "X-Ray trace APIs have no resource-level permissions (Lambda active tracing, the fraud-api X-Ray daemon)",
    "xray:PutTelemetryRecords": "X-Ray trace APIs have no resource-level permissions (Lambda active tracing, the fraud-api X-Ray daemon)",
    "xray:GetSamplingRules": "X-Ray sampling APIs have no resource-level permissions (the fraud-api daemon follows the gateway's sampling rules)",
    "xray:GetSamplingTargets": "X-Ray sampling APIs have no resource-level permissions (the fraud-api daemon follows the gateway's sampling rules)",
    "ec2:DescribeNetworkInterfaces": "EC2 Describe calls have no resource-level permissions; Lambda needs it to manage a VPC function's ENIs (CreateNetworkInterface itself is scoped to the function's subnets and security group)",
    "ec2:DescribeSubnets": "EC2 Describe calls have no resource-level permissions; Lambda needs it to place a VPC function's ENIs",
    "ecr:GetAuthorizationToken": "the registry login token is account-wide and ECR defines no resource for it; the image pulls themselves are granted on the fraud-api repository and the X-Ray daemon's cache repository",
    "elasticloadbalancing:DescribeTargetGroups": "Elastic Load Balancing's Describe calls have no resource-level permissions; CodeDeploy reads the target groups it swaps (ModifyListener and ModifyRule are granted on this service's listeners and rules only)",
    "elasticloadbalancing:DescribeListeners": "Elastic Load Balancing's Describe calls have no resource-level permissions; CodeDeploy reads the listeners it moves traffic on",
    "elasticloadbalancing:DescribeRules": "Elastic Load Balancing's Describe calls have no resource-level permissions; CodeDeploy reads the forwarding rules it rewrites",
}

# Services whose role trust carries no aws:SourceAccount / aws:SourceArn, and why. AWS sends those
# keys only where a service documents them; a condition the service never sends breaks the role.
TRUST_WITHOUT_SOURCE_CONDITIONS: dict[str, str] = {
    "codedeploy.amazonaws.com": "CodeDeploy documents no aws:SourceAccount/aws:SourceArn for assuming its service role; a condition it never sends would fail every deployment (docs/compute.md)",
    "sns.amazonaws.com": "SNS documents no aws:SourceAccount/aws:SourceArn for assuming a delivery-status (feedback) role (components/compute/alerts.py)",
    "apigateway.amazonaws.com": "API Gateway documents no source conditions for the account's CloudWatch role; only a principal of this account with iam:PassRole can set it (docs/edge.md)",
}

# AWS managed policies a role may carry: AWS maintains them, so their Resource "*" is reviewed here.
# None: the CodeDeploy role's inline policy replaced AWSCodeDeployRoleForECS (docs/compute.md).
MANAGED_POLICIES: dict[str, str] = {}

# Allow statements that name Principal "*", by sid, and where alone they may stand: a VPC endpoint
# policy, for exactly these actions on resources matching the pattern (tokens stand for account,
# partition and region), and why no principal can be named.
PRINCIPAL_STAR_STATEMENTS: dict[str, tuple[str, tuple[str, ...], str, str]] = {
    "EcrImageLayers": (
        "aws_vpc_endpoint",
        ("s3:GetObject",),
        r"arn:\$\{data\.aws_partition\.[^}]+\}:s3:::prod-\$\{data\.aws_region\.[^}]+\}-starport-layer-bucket/\*",
        "S3 gateway endpoint: ECR serves image layers from this AWS-owned bucket through URLs ECR signs itself, so the caller is ECR's principal, not one of this account; only reading that bucket passes",
    ),
}

# Which resource attribute hands a role to which service: a role must be trusted by exactly the service that uses it.
SNS_FEEDBACK = {
    ("aws_sns_topic", f"{protocol}_{outcome}_feedback_role_arn"): "sns.amazonaws.com"
    for protocol in ("application", "firehose", "http", "lambda", "sqs")
    for outcome in ("success", "failure")
}
ROLE_CONSUMERS: dict[tuple[str, str], str] = {
    ("aws_lambda_function", "role"): "lambda.amazonaws.com",
    ("aws_ecs_task_definition", "execution_role_arn"): "ecs-tasks.amazonaws.com",
    ("aws_ecs_task_definition", "task_role_arn"): "ecs-tasks.amazonaws.com",
    ("aws_codedeploy_deployment_group", "service_role_arn"): "codedeploy.amazonaws.com",
    ("aws_api_gateway_account", "cloudwatch_role_arn"): "apigateway.amazonaws.com",
    ("aws_flow_log", "iam_role_arn"): "vpc-flow-logs.amazonaws.com",
    ("aws_cloudwatch_event_target", "role_arn"): "events.amazonaws.com",
    ("aws_rds_cluster_instance", "monitoring_role_arn"): "monitoring.rds.amazonaws.com",
    **SNS_FEEDBACK,
}
# Resources that name a role without handing it to a service.
ROLE_ADMINISTRATION = ("aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_iam_policy_attachment")


@pytest.fixture(params=STACK_NAMES)
def stack(request, platform: Platform) -> Stack:
    return platform.stack(request.param)


def uses(stack: Stack, *kinds: str) -> list[PolicyUse]:
    return [use for use in policy_uses(stack) if use.kind in kinds]


def is_key_administration(use: PolicyUse, statement) -> bool:
    """AWS's default key-policy statement: `kms:*` on the key for this account's root, nothing else."""
    return (
        use.kind == KEY
        and statement.allows
        and statement.actions == ("kms:*",)
        and statement.resources == ("*",)
        and not statement.conditions
        and len(statement.principal_identifiers()) == 1
        and statement.principal_identifiers()[0][0] == "AWS"
        and use.stack.is_account_root(statement.principal_identifiers()[0][1])
    )


# --- Every policy is seen -----------------------------------------------------------------------


def test_every_policy_is_read_where_aws_reads_it(stack):
    found = policy_uses(stack)
    unreadable = [f"{use.where}: {use.problem}" for use in found if use.statements is None]
    assert not unreadable, "policies the tests cannot judge:\n" + "\n".join(unreadable)

    documents = set(stack.data_sources("aws_iam_policy_document"))
    unused = documents - {use.document for use in found}
    assert not unused, f"{stack.name}: policy documents no known attribute uses (add the attribute to POLICY_ATTRIBUTES): {sorted(unused)}"
    elsewhere = policy_like_values_outside_known_attributes(stack)
    assert not elsewhere, f"{stack.name}: policies in attributes POLICY_ATTRIBUTES does not know: {elsewhere}"


def test_the_platform_has_policies_of_every_kind(platform):
    kinds = {use.kind for stack in platform.stacks.values() for use in policy_uses(stack)}
    assert kinds == {TRUST, IDENTITY, KEY, RESOURCE}


# --- Actions and principals -----------------------------------------------------------------------


def test_no_allow_statement_grants_every_action_of_a_service(stack):
    offending = [
        f"{use.where} [{statement.sid}]: {statement.actions or ('NotAction', *statement.not_actions)}"
        for use in policy_uses(stack)
        for statement in use.statements or ()
        if statement.allows and statement.grants_every_action() and not is_key_administration(use, statement)
    ]
    assert not offending, "Allow statements with '*', 'service:*' or NotAction:\n" + "\n".join(offending)


def test_wildcard_admin_appears_only_as_the_account_root_statement_of_key_policies(stack):
    for use in uses(stack, KEY):
        administration = [statement for statement in use.statements if is_key_administration(use, statement)]
        assert len(administration) == 1, f"{use.where}: exactly one account-root administration statement"


def test_no_allow_statement_names_everyone_or_excludes_by_negation(stack):
    for use in policy_uses(stack):
        for statement in use.statements or ():
            if statement.allows:
                assert not statement.not_principals and not statement.not_resources, f"{use.where} [{statement.sid}]"
                if not statement.names_everyone():
                    continue
                assert statement.sid in PRINCIPAL_STAR_STATEMENTS, f"{use.where} [{statement.sid}] allows Principal '*'"
                where, actions, resource, _ = PRINCIPAL_STAR_STATEMENTS[statement.sid]
                assert use.resource_type == where and statement.actions == actions, f"{use.where} [{statement.sid}]"
                assert statement.resources and all(re.fullmatch(resource, each) for each in statement.resources), f"{use.where}: {statement.resources}"


def test_every_principal_star_exception_is_still_needed(platform):
    used = {
        statement.sid
        for stack in platform.stacks.values()
        for use in policy_uses(stack)
        for statement in use.statements or ()
        if statement.allows and statement.names_everyone()
    }
    assert used == set(PRINCIPAL_STAR_STATEMENTS)


# --- Resources ------------------------------------------------------------------------------------


def test_identity_policies_use_resource_star_only_for_actions_without_resources(stack):
    for use in uses(stack, IDENTITY):
        for statement in use.statements:
            assert statement.resources, f"{use.where} [{statement.sid}] names no resource"
            if statement.allows and "*" in statement.resources:
                unexplained = sorted(set(statement.actions) - set(RESOURCE_STAR_ACTIONS))
                assert not unexplained, f"{use.where} [{statement.sid}]: Resource '*' for {unexplained}; name the ARNs"


def test_every_resource_star_exception_is_still_needed(platform):
    used = {
        action
        for stack in platform.stacks.values()
        for use in uses(stack, IDENTITY)
        for statement in use.statements
        if statement.allows and "*" in statement.resources
        for action in statement.actions
    }
    assert used == set(RESOURCE_STAR_ACTIONS), f"stale exceptions: {sorted(set(RESOURCE_STAR_ACTIONS) - used)}"


# Which argument of a resource-policy resource names the resource it protects; a queue carries its own.
PROTECTED_BY = {"aws_s3_bucket_policy": "bucket", "aws_sqs_queue": None, "aws_sns_topic_policy": "arn"}


def test_resource_policies_grant_only_on_the_resource_they_protect(stack, platform):
    for use in uses(stack, RESOURCE):
        if use.resource_type == "aws_vpc_endpoint":
            # What an endpoint lets through is judged against the workloads' calls in test_egress.py.
            continue
        argument = PROTECTED_BY.get(use.resource_type, "")
        if argument is None:
            own_arns = stack.own_arns(use.resource_type, use.logical_id)
        elif argument:
            target = platform.resolve(stack, use.body[argument])
            assert target is not None and target.stack == stack.name, f"{use.where}: protects no resource of this stack"
            own_arns = stack.own_arns(target.type, target.logical_id)
        else:
            own_arns = set()
        for statement in use.statements:
            if not statement.allows:
                continue
            assert statement.resources and "*" not in statement.resources, f"{use.where} [{statement.sid}] on every resource"
            for resource in statement.resources:
                if own_arns:
                    assert any(resource == arn or resource.startswith(arn + "/") for arn in own_arns), f"{use.where} [{statement.sid}]: {resource}"
                else:
                    # Account-level resource policies (log delivery) must still name this stack's log groups.
                    named = [platform.resolve(stack, reference) for reference in references_in(resource)]
                    assert any(address and address.type == "aws_cloudwatch_log_group" for address in named), f"{use.where} [{statement.sid}]: {resource}"


def test_key_policies_narrow_every_grant_but_administration_by_conditions(stack):
    # In a key policy Resource "*" means this key; who may use it is decided by principal and condition.
    for use in uses(stack, KEY):
        for statement in use.statements:
            if statement.allows and not is_key_administration(use, statement):
                assert statement.conditions, f"{use.where} [{statement.sid}] grants the key without a condition"
                for kind, identifier in statement.principal_identifiers():
                    assert kind == "Service" or stack.is_account_root(identifier), f"{use.where} [{statement.sid}]: {identifier}"


# --- Roles: trust, use, managed policies ------------------------------------------------------------


def test_every_role_trusts_exactly_one_service_principal(stack):
    for use in uses(stack, TRUST):
        assert len(use.statements) == 1, f"{use.where}: one trust statement"
        (statement,) = use.statements
        assert statement.allows and statement.actions == ("sts:AssumeRole",), f"{use.where}: {statement}"
        principals = statement.principal_identifiers()
        assert len(principals) == 1 and principals[0][0] == "Service", f"{use.where}: trusted by {principals}"


def test_trust_pins_the_source_account_where_the_service_supports_it(stack):
    for use in uses(stack, TRUST):
        (statement,) = use.statements
        ((_, service),) = statement.principal_identifiers()
        source_accounts = statement.condition_values("aws:SourceAccount")
        source_arns = statement.condition_values("aws:SourceArn")
        if service in TRUST_WITHOUT_SOURCE_CONDITIONS:
            continue
        assert source_accounts, f"{use.where}: {service} may be assumed on behalf of any account (add aws:SourceAccount)"
        assert all(stack.is_this_account(value) for value in source_accounts), f"{use.where}: {source_accounts}"
        assert all(stack.account_reference() in arn for arn in source_arns), f"{use.where}: {source_arns}"
        for test, variable, _ in statement.conditions:
            if variable == "aws:SourceAccount":
                assert test == "StringEquals", f"{use.where}: aws:SourceAccount must be matched exactly, not with {test}"


def test_every_trust_exception_is_still_needed(platform):
    unconditioned = {
        statement.principal_identifiers()[0][1]
        for stack in platform.stacks.values()
        for use in uses(stack, TRUST)
        for statement in use.statements
        if not statement.condition_values("aws:SourceAccount") and not statement.condition_values("aws:SourceArn")
    }
    assert unconditioned == set(TRUST_WITHOUT_SOURCE_CONDITIONS), f"stale exceptions: {sorted(set(TRUST_WITHOUT_SOURCE_CONDITIONS) - unconditioned)}"


@pytest.mark.parametrize("group", [*ENVIRONMENTS, BOOTSTRAP])
def test_every_role_is_used_only_by_the_service_it_trusts(platform, group):
    stacks = [platform.stack(BOOTSTRAP)] if group == BOOTSTRAP else platform.environment(group)
    consumers = defaultdict(list)
    for stack in stacks:
        for resource_type, logical_id, body in stack.all_resources():
            if resource_type in ROLE_ADMINISTRATION:
                continue
            for attribute, value in body.items():
                for expression in references_in(value):
                    address = platform.resolve(stack, expression)
                    if address and address.type == "aws_iam_role" and address.attribute == "arn":
                        expected = ROLE_CONSUMERS.get((resource_type, attribute))
                        assert expected, f"{stack.name}: {resource_type}.{logical_id}.{attribute} hands a role to a service ROLE_CONSUMERS does not know"
                        consumers[(address.stack, address.logical_id)].append(expected)

    for stack in stacks:
        trusted = {use.logical_id: use.statements[0].principal_identifiers()[0][1] for use in uses(stack, TRUST)}
        for role, service in trusted.items():
            used_by = set(consumers[(stack.name, role)])
            assert used_by == {service}, f"{stack.name}: role {role} trusts {service} but is handed to {sorted(used_by) or 'nothing'}"


def test_managed_policies_are_only_the_reviewed_aws_ones(stack):
    for attachment, arn in managed_policy_arns(stack):
        prefix, _, name = arn.rpartition("/")
        assert prefix.endswith((":iam::aws:policy", ":iam::aws:policy/service-role")), f"{stack.name}: {attachment} attaches {arn}"
        assert name in MANAGED_POLICIES, f"{stack.name}: {attachment} attaches {name}, which nobody reviewed"


def test_every_managed_policy_exception_is_still_needed(platform):
    attached = {arn.rpartition("/")[2] for stack in platform.stacks.values() for _, arn in managed_policy_arns(stack)}
    assert attached == set(MANAGED_POLICIES)


def test_no_long_lived_credentials(stack):
    """PCI DSS 8: people and services authenticate through roles; no IAM users, groups or access keys."""
    for resource_type in ("aws_iam_user", "aws_iam_group", "aws_iam_access_key", "aws_iam_user_login_profile", "aws_iam_service_specific_credential"):
        assert not stack.resources(resource_type), f"{stack.name}: {resource_type}"


def test_every_invoke_permission_names_its_caller(stack):
    for logical_id, permission in stack.resources("aws_lambda_permission").items():
        assert permission["principal"].endswith(".amazonaws.com"), f"{stack.name}: {logical_id} admits {permission['principal']}"
        assert permission.get("source_arn"), f"{stack.name}: {logical_id} lets any {permission['principal']} resource invoke"
        assert stack.is_this_account(permission.get("source_account", "")), f"{stack.name}: {logical_id} names no source account"
