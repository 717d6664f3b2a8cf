"""Egress, by meaning (docs/architecture.md, "Egress"; docs/security.md, "Egress").

Every call the workloads' roles allow from inside the VPC (the Lambda functions, the fraud-api
tasks, the schema migration task and their ECS agent) is followed to where it goes: in an environment without NAT, to a VPC
endpoint of its service, which must exist; and in every environment, through that endpoint's
policy, which must admit it. References are resolved across stacks and rendered as the ARNs AWS
will see (with a fixed account and region), then matched the way IAM matches them. What the
endpoint policies admit is held to this environment's resources, save a short list of
account-level ones. And without NAT the tiers' security groups lead nowhere but to the endpoints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from config.settings import NatStrategy
from tests.security.policies import IDENTITY, TRUST, PolicyUse, Statement, policy_uses
from tests.security.synthesized import ENVIRONMENTS, Platform, Stack
from tests.security.test_iam import RESOURCE_STAR_ACTIONS

ACCOUNT, REGION, PARTITION = "123456789012", "us-east-1", "aws"
WORKLOADS = ("lambda.amazonaws.com", "ecs-tasks.amazonaws.com")
# Calls AWS makes with a workload's role outside the VPC: they need no endpoint, and why.
MADE_BY_THE_SERVICE: dict[tuple[str, str], str] = {
    ("lambda.amazonaws.com", "logs:CreateLogStream"): "Lambda writes the function's logs",
    ("lambda.amazonaws.com", "logs:PutLogEvents"): "Lambda writes the function's logs",
    ("lambda.amazonaws.com", "ec2:DescribeNetworkInterfaces"): "Lambda manages the function's network interfaces",
    ("lambda.amazonaws.com", "ec2:DescribeSubnets"): "Lambda manages the function's network interfaces",
    ("lambda.amazonaws.com", "ec2:CreateNetworkInterface"): "Lambda manages the function's network interfaces",
    ("lambda.amazonaws.com", "ec2:DeleteNetworkInterface"): "Lambda manages the function's network interfaces",
    ("lambda.amazonaws.com", "ec2:AssignPrivateIpAddresses"): "Lambda manages the function's network interfaces",
    ("lambda.amazonaws.com", "ec2:UnassignPrivateIpAddresses"): "Lambda manages the function's network interfaces",
    ("lambda.amazonaws.com", "kms:Decrypt"): "Lambda decrypts the function's environment before it runs",
    ("lambda.amazonaws.com", "sqs:SendMessage"): "Lambda delivers a failed asynchronous invocation to the function's destination",
}
# Allowed actions that call no AWS API, so no endpoint carries them, and why.
NOT_AN_API_CALL: dict[str, str] = {
    "rds-db:connect": "an IAM database login: the task signs the token itself and presents it to Aurora on 5432 inside the VPC, where RDS checks the grant",
}
# Which endpoint service carries a call of each IAM service prefix.
ENDPOINT_OF = {"ecr": ("ecr.api", "ecr.dkr"), "logs": ("logs",), "secretsmanager": ("secretsmanager",), "ssm": ("ssm",), "sns": ("sns",), "xray": ("xray",), "dynamodb": ("dynamodb",), "s3": ("s3",)}
# Resources an endpoint policy may admit that belong to the account rather than the environment.
ACCOUNT_LEVEL: dict[str, str] = {
    r"arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-\*": "RDS names the master secret it manages `rds!cluster-<uuid>`",
    r"arn:aws:ecr:us-east-1:123456789012:repository/fraud-api": "the fraud-api image repository, shared by the environments a promotion moves one image through",
    r"arn:aws:ecr:us-east-1:123456789012:repository/ecr-public/xray/aws-xray-daemon": "the account's ECR Public pull-through cache of the X-Ray daemon",
    r"arn:aws:s3:::prod-us-east-1-starport-layer-bucket/\*": "AWS's bucket of ECR image layers",
}


@pytest.fixture(params=ENVIRONMENTS)
def environment(request) -> str:
    return request.param


# --- Rendering references as the ARNs AWS will see -------------------------------------------------

_EXPRESSION = re.compile(r"\$\{[^}]+\}")
_ARN_FORMATS = {
    ("aws_sns_topic", "arn"): "arn:aws:sns:{region}:{account}:{name}",
    ("aws_ssm_parameter", "arn"): "arn:aws:ssm:{region}:{account}:parameter{name}",
    ("aws_secretsmanager_secret", "arn"): "arn:aws:secretsmanager:{region}:{account}:secret:{name}-Ab12Cd",
    ("aws_cloudwatch_log_group", "arn"): "arn:aws:logs:{region}:{account}:log-group:{name}",
    ("aws_dynamodb_table", "arn"): "arn:aws:dynamodb:{region}:{account}:table/{name}",
    ("aws_sqs_queue", "arn"): "arn:aws:sqs:{region}:{account}:{name}",
    ("aws_rds_cluster", "master_user_secret[0].secret_arn"): "arn:aws:secretsmanager:{region}:{account}:secret:rds!cluster-0b1c2d3e-Ab12Cd",
    ("aws_rds_cluster", "cluster_resource_id"): "cluster-ABCDEFGHIJKLMNOPQRSTUVWXY2",
}


def render(platform: Platform, stack: Stack, value: str) -> str:
    """`value` with every `${...}` replaced by what AWS will see (fixed account, region, partition)."""

    def one(match: re.Match) -> str:
        expression = match.group(0)
        if re.fullmatch(r"\$\{data\.aws_partition\.[^.]+\.partition\}", expression):
            return PARTITION
        if re.fullmatch(r"\$\{data\.aws_region\.[^.]+\.name\}", expression):
            return REGION
        if stack.is_this_account(expression):
            return ACCOUNT
        address = platform.resolve(stack, expression)
        assert address is not None, f"{stack.name}: cannot follow {expression}"
        producer = platform.stacks[address.stack]
        body = platform.body(address)
        arn_format = _ARN_FORMATS.get((address.type, address.attribute))
        if arn_format:
            name = render(platform, producer, body["name"]) if "{name}" in arn_format else None
            return arn_format.format(region=REGION, account=ACCOUNT, name=name)
        assert address.attribute in body and isinstance(body[address.attribute], str), f"{stack.name}: no rendering for {expression}"
        return render(platform, producer, body[address.attribute])

    return _EXPRESSION.sub(one, value)


def iam_match(pattern: str, value: str) -> bool:
    """IAM's wildcards: `*` any run of characters, `?` one character; actions case-insensitively."""
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.fullmatch(regex, value, flags=re.IGNORECASE if ":" in pattern and "arn:" not in pattern else 0) is not None


# --- The workloads' calls from inside the VPC -------------------------------------------------------


@dataclass(frozen=True)
class Call:
    role: str
    principal: str
    action: str
    resource: str  # rendered

    @property
    def service(self) -> str:
        return self.action.split(":", 1)[0]


def workload_calls(platform: Platform, environment: str) -> Iterator[Call]:
    for stack in platform.environment(environment):
        uses = policy_uses(stack)
        trusted = {use.logical_id: use.statements[0].principal_identifiers()[0][1] for use in uses if use.kind == TRUST}
        for use in uses:
            if use.kind != IDENTITY:
                continue
            assert use.resource_type == "aws_iam_role_policy", f"{use.where}: identity policies are inline role policies"
            role = platform.resolve(stack, use.body["role"]).logical_id
            principal = trusted[role]
            if principal not in WORKLOADS:
                continue
            for statement in use.statements:
                yield from _calls(platform, stack, role, principal, statement)


def _calls(platform: Platform, stack: Stack, role: str, principal: str, statement: Statement) -> Iterator[Call]:
    if not statement.allows or statement.condition_values("kms:ViaService"):
        return  # kms:ViaService: the service named there calls KMS, not the workload
    for action in statement.actions:
        if (principal, action) in MADE_BY_THE_SERVICE or action in NOT_AN_API_CALL:
            continue
        for resource in statement.resources:
            yield Call(role, principal, action, render(platform, stack, resource))
        if action == "ecr:GetDownloadUrlForLayer":
            # ECR hands out the layer as a URL into its own S3 bucket, fetched from the task's network.
            yield Call(role, principal, "s3:GetObject", f"arn:aws:s3:::prod-{REGION}-starport-layer-bucket/sha256/layer")


def test_every_call_is_classified_and_every_service_side_exception_is_needed(platform):
    seen = set()
    for environment in ENVIRONMENTS:
        for stack in platform.environment(environment):
            uses = policy_uses(stack)
            trusted = {use.logical_id: use.statements[0].principal_identifiers()[0][1] for use in uses if use.kind == TRUST}
            for use in uses:
                if use.kind == IDENTITY:
                    principal = trusted[platform.resolve(stack, use.body["role"]).logical_id]
                    seen |= {(principal, action) for statement in use.statements for action in statement.actions}
    assert set(MADE_BY_THE_SERVICE) <= seen, f"stale: {sorted(set(MADE_BY_THE_SERVICE) - seen)}"
    assert set(NOT_AN_API_CALL) <= {action for _, action in seen}, "stale NOT_AN_API_CALL"
    calls = {call.service for environment in ENVIRONMENTS for call in workload_calls(platform, environment)}
    assert calls <= set(ENDPOINT_OF), f"calls to services with no endpoint mapping: {sorted(calls - set(ENDPOINT_OF))}"


# --- Endpoints ------------------------------------------------------------------------------------


def endpoints(platform: Platform, environment: str) -> dict[str, PolicyUse]:
    """Endpoint service name (`ecr.api`, `s3`) -> the endpoint's policy."""
    network = platform.stack(f"network-{environment}")
    found = {}
    for use in policy_uses(network):
        if use.resource_type == "aws_vpc_endpoint":
            found[use.body["service_name"].rsplit("}.", 1)[1]] = use
    assert set(found) == {body["service_name"].rsplit("}.", 1)[1] for body in network.resources("aws_vpc_endpoint").values()}, "every endpoint has a policy"
    return found


def admits(platform: Platform, use: PolicyUse, call: Call) -> bool:
    for statement in use.statements:
        if not statement.allows or statement.conditions:
            continue
        principals = statement.principal_identifiers()
        if not any(kind == "*" or use.stack.is_account_root(identifier) for kind, identifier in principals):
            continue
        if any(iam_match(action, call.action) for action in statement.actions) and any(
            iam_match(render(platform, use.stack, resource), call.resource) for resource in statement.resources
        ):
            return True
    return False


def test_without_nat_every_call_has_an_endpoint_and_every_endpoint_a_caller(platform, environment, synthesis):
    if synthesis.environments[environment].network.nat_strategy is not NatStrategy.NONE:
        pytest.skip("this environment leaves through NAT")
    present = set(endpoints(platform, environment))
    needed = {service for call in workload_calls(platform, environment) for service in ENDPOINT_OF[call.service]}
    assert needed <= present, f"{environment}: no route for calls to {sorted(needed - present)}"
    assert present <= needed, f"{environment}: endpoints nobody calls through (paid for by the AZ-hour): {sorted(present - needed)}"


def test_every_endpoint_admits_every_call_the_workloads_make_through_it(platform, environment):
    present = endpoints(platform, environment)
    checked = 0
    for call in workload_calls(platform, environment):
        for service in ENDPOINT_OF[call.service]:
            if service in present:
                checked += 1
                assert admits(platform, present[service], call), f"{environment}: the {service} endpoint refuses {call}"
    assert checked, "the gateway endpoints at least carry calls"


def test_endpoints_admit_only_this_account_and_this_environments_resources(platform, environment):
    for service, use in endpoints(platform, environment).items():
        for statement in use.statements:
            assert statement.allows and not statement.conditions, f"{use.where} [{statement.sid}]"
            principals = statement.principal_identifiers()
            # Principal "*" only where test_iam.PRINCIPAL_STAR_STATEMENTS allows it (the ECR layer bucket).
            assert all(kind == "*" or use.stack.is_account_root(identifier) for kind, identifier in principals), f"{use.where}: {principals}"
            for resource in statement.resources:
                rendered = render(platform, use.stack, resource)
                if rendered == "*":
                    assert set(statement.actions) <= set(RESOURCE_STAR_ACTIONS), f"{use.where} [{statement.sid}]: '*' for {statement.actions}"
                    continue
                own = f"fraud-*-{environment}" in rendered or f"fraud-detection/{environment}/" in rendered
                account_level = any(re.fullmatch(pattern, rendered) for pattern in ACCOUNT_LEVEL)
                assert own or account_level, f"{use.where} [{statement.sid}] admits {rendered}, not of {environment}"


# --- Security groups without NAT -------------------------------------------------------------------


def test_without_nat_the_tiers_open_connections_only_to_the_endpoints(platform, environment, synthesis):
    if synthesis.environments[environment].network.nat_strategy is not NatStrategy.NONE:
        pytest.skip("this environment leaves through NAT")
    network = platform.stack(f"network-{environment}")
    names = {logical_id: body["name"] for logical_id, body in network.resources("aws_security_group").items()}
    gateways = {
        f"${{aws_vpc_endpoint.{logical_id}.prefix_list_id}}": body["service_name"].rsplit(".", 1)[1]
        for logical_id, body in network.resources("aws_vpc_endpoint").items()
        if body["vpc_endpoint_type"] == "Gateway"
    }
    for rule in network.resources("aws_vpc_security_group_egress_rule").values():
        group = names[platform.resolve(network, rule["security_group_id"]).logical_id]
        assert not rule.get("cidr_ipv4") and not rule.get("cidr_ipv6"), f"{group} may leave for {rule.get('cidr_ipv4') or rule.get('cidr_ipv6')}"
        if rule.get("prefix_list_id"):
            assert rule["prefix_list_id"] in gateways and rule["from_port"] == rule["to_port"] == 443, f"{group}: {rule}"
        else:
            peer = names[platform.resolve(network, rule["referenced_security_group_id"]).logical_id]
            assert peer.startswith(("fraud-endpoints-", "fraud-load-balancer-", "fraud-application-", "fraud-database-")), f"{group} -> {peer}"
