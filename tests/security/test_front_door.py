"""One way in, by meaning, over the five stacks of every environment (docs/edge.md, "No bypass").

- Every security-group path to the edge NLB, the ALB and the fraud-api tasks is enumerated from
  the synthesized rules: the NLB admits nothing but the VPC link's PrivateLink traffic, the ALB's
  production listener only the NLB, its blue/green test listener nobody, the tasks only the ALB;
  the database only the tasks and the schema migration task, which admits nothing.
- Each kind of consumer's key reaches only its own routes, as API Gateway applies the usage plans.
- Each Lambda function is invocable only by the one source that is declared to invoke it.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from dataclasses import dataclass

import pytest

from tests.security import gateway
from tests.security.synthesized import ENVIRONMENTS, Address, Platform, Stack, references_in

RULE_TYPES = ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")


@pytest.fixture(params=ENVIRONMENTS)
def environment(request) -> str:
    return request.param


# --- Security groups: every path to the ALB and the tasks ------------------------------------------


@dataclass(frozen=True)
class Rule:
    port_range: tuple[int, int]
    protocol: str
    peer_group: str | None  # logical id of a security group of the network layer
    cidr: str | None
    prefix_list: str | None

    def covers(self, port: int) -> bool:
        return self.protocol == "-1" or (self.protocol == "tcp" and self.port_range[0] <= port <= self.port_range[1])


class SecurityGroups:
    """The network layer's groups, their rules, and what carries each group, across the environment."""

    def __init__(self, platform: Platform, environment: str) -> None:
        self.platform = platform
        self.network = platform.stack(f"network-{environment}")
        (vpc,) = self.network.resources("aws_vpc").values()
        self.vpc = ipaddress.ip_network(vpc["cidr_block"])
        self.names = {logical_id: body["name"] for logical_id, body in self.network.resources("aws_security_group").items()}
        self.ingress: dict[str, list[Rule]] = defaultdict(list)
        self.egress: dict[str, list[Rule]] = defaultdict(list)
        for stack in platform.environment(environment):
            for resource_type in ("aws_security_group_rule", "aws_network_interface_sg_attachment"):
                assert not stack.resources(resource_type), f"{stack.name}: {resource_type} bypasses the rules judged here"
            for logical_id, body in stack.resources("aws_security_group").items():
                assert not body.get("ingress") and not body.get("egress"), f"{stack.name}: inline rules on {logical_id}"
            for resource_type in RULE_TYPES:
                rules = stack.resources(resource_type)
                assert not rules or stack is self.network, f"{stack.name}: security-group rules outside the network layer"
                for body in rules.values():
                    group = self.group(stack, body["security_group_id"])
                    rule = Rule(
                        port_range=(body.get("from_port", 0), body.get("to_port", 65535)),
                        protocol=str(body["ip_protocol"]),
                        peer_group=self.group(stack, body["referenced_security_group_id"]) if body.get("referenced_security_group_id") else None,
                        cidr=body.get("cidr_ipv4") or body.get("cidr_ipv6"),
                        prefix_list=body.get("prefix_list_id"),
                    )
                    (self.ingress if resource_type.endswith("ingress_rule") else self.egress)[group].append(rule)
        self.carriers: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for stack in platform.environment(environment):
            for resource_type, logical_id, body in stack.all_resources():
                if resource_type in RULE_TYPES:
                    continue
                for expression in references_in({key: value for key, value in body.items() if key != "//"}):
                    address = platform.resolve(stack, expression)
                    if address and address.type == "aws_security_group" and address.stack == self.network.name and address.attribute == "id":
                        self.carriers[address.logical_id].add((stack.name, resource_type))

    def group(self, stack: Stack, expression: str) -> str:
        address = self.platform.resolve(stack, expression)
        assert address and address.type == "aws_security_group" and address.stack == self.network.name, expression
        return address.logical_id

    def by_name(self, tier: str) -> str:
        (found,) = [logical_id for logical_id, name in self.names.items() if re.fullmatch(rf"fraud-{tier}-[a-z0-9]+", name)]
        return found

    def _inside_vpc(self, cidr: str) -> bool:
        return ipaddress.ip_network(cidr).overlaps(self.vpc)

    def can_open(self, source: str, destination: str, port: int) -> bool:
        """Whether an ENI in `source` may open a TCP connection to an ENI in `destination` on `port`."""
        leaves = any(
            rule.covers(port) and (rule.peer_group == destination or (rule.cidr is not None and self._inside_vpc(rule.cidr)))
            for rule in self.egress[source]
        )
        enters = any(
            rule.covers(port) and (rule.peer_group == source or (rule.cidr is not None and self._inside_vpc(rule.cidr)))
            for rule in self.ingress[destination]
        )
        return leaves and enters

    def sources(self, destination: str, port: int) -> set[str]:
        """Every group of the VPC (the default group included) that can reach `destination` on `port`."""
        everyone = set(self.names) | {"default"}
        return {self.names.get(source, source) for source in everyone if self.can_open(source, destination, port)}


def listener_ports(platform: Platform, environment: str, load_balancer_type: str) -> set[int]:
    ports = set()
    for stack in platform.environment(environment):
        balancers = {logical_id for logical_id, body in stack.resources("aws_lb").items() if body["load_balancer_type"] == load_balancer_type}
        for listener in stack.resources("aws_lb_listener").values():
            address = platform.resolve(stack, listener["load_balancer_arn"])
            if address and address.logical_id in balancers:
                ports.add(listener["port"])
    return ports


def test_every_path_to_the_nlb_the_alb_and_the_tasks(platform, environment):
    groups = SecurityGroups(platform, environment)
    nlb, alb, tasks = (groups.by_name(tier) for tier in ("vpc-link", "load-balancer", "application"))
    name = groups.names.__getitem__

    # Inside the VPC nothing reaches the NLB; the VPC link's PrivateLink traffic is exempt from its inbound rules.
    for port in listener_ports(platform, environment, "network"):
        assert groups.sources(nlb, port) == set(), f"{environment}: reaches the NLB on {port}"
    (edge_nlb,) = platform.stack(f"edge-{environment}").resources("aws_lb").values()
    assert edge_nlb["enforce_security_group_inbound_rules_on_private_link_traffic"] == "off"

    alb_ports = listener_ports(platform, environment, "application")
    assert alb_ports == {443, 8443}
    assert groups.sources(alb, 443) == {name(nlb)}, "only the edge NLB reaches the production listener"
    assert groups.sources(alb, 8443) == set(), "no deployment hook needs the test listener: nobody reaches it"

    (target_group_port,) = {body["port"] for body in platform.stack(f"compute-{environment}").resources("aws_lb_target_group").values()}
    assert groups.sources(tasks, target_group_port) == {name(alb)}
    for port in (22, 443, 5432, 8443):
        assert groups.sources(tasks, port) == set(), f"{environment}: tasks reachable on {port}"
    # The database: the serving tasks, and the schema migration task (the owner's one-off login).
    migration = groups.by_name("migration")
    assert groups.sources(groups.by_name("database"), 5432) == {name(tasks), name(migration)}
    for port in (22, 443, 5432, 8080, 8443):
        assert groups.sources(migration, port) == set(), f"{environment}: the migration task reachable on {port}"


def test_the_front_door_groups_are_worn_only_by_their_own_load_balancer_and_service(platform, environment):
    """A group is what a rule admits: nothing but the NLB wears its group, the ALB its, the tasks theirs."""
    groups = SecurityGroups(platform, environment)
    assert groups.carriers[groups.by_name("vpc-link")] == {(f"edge-{environment}", "aws_lb")}
    assert groups.carriers[groups.by_name("load-balancer")] == {(f"compute-{environment}", "aws_lb")}
    assert groups.carriers[groups.by_name("application")] == {(f"compute-{environment}", "aws_ecs_service")}
    # The migration task's group is worn only by that task, which the release starts (ecs run-task
    # with the compute layer's outputs): no resource wears it, and the service does not.
    assert groups.carriers[groups.by_name("migration")] == set()
    outputs = platform.stack(f"compute-{environment}").config["output"]
    address = platform.resolve(platform.stack(f"compute-{environment}"), outputs["fraud_api_migration_security_group_id"]["value"])
    assert (address.stack, address.logical_id) == (groups.network.name, groups.by_name("migration"))


# --- Usage plans: each consumer's key opens only its own routes ----------------------------------

# Which kind of consumer may call what (docs/requirements.md R5.16): (plan name prefix, method, path).
ALLOWED_CALLS = {
    ("fraud-ingestion-clients", "POST", "/transactions"),
    ("fraud-api-clients", "POST", "/api/v1/score"),
    ("fraud-api-clients", "GET", "/api/v1/transactions/7f1e"),
}


def test_each_kind_of_key_reaches_only_its_own_routes(platform, environment):
    edge = platform.stack(f"edge-{environment}")
    plans = gateway.plans(edge)
    assert {plan.name.removesuffix(f"-{environment}") for plan in plans} == {kind for kind, _, _ in ALLOWED_CALLS}
    calls = {(method, path) for _, method, path in ALLOWED_CALLS}
    for plan in plans:
        kind = plan.name.removesuffix(f"-{environment}")
        assert plan.key_ids, f"{plan.name} has no key"
        for method, path in calls:
            answer = plan.answer(gateway.method_for(edge, method, path))
            if (kind, method, path) in ALLOWED_CALLS:
                assert answer == gateway.FORWARDED, f"{environment}: a {kind} key cannot {method} {path}"
            else:
                # Refused by API Gateway itself, before any integration runs.
                assert answer == gateway.THROTTLED, f"{environment}: a {kind} key may {method} {path} ({answer})"
    # Every method of the API belongs to exactly one kind of consumer.
    for method in gateway.methods(edge):
        assert len([plan for plan in plans if plan.answer(method) == gateway.FORWARDED]) == 1, method
    # A key in two plans of one stage is refused by AWS; each key here is in exactly one.
    keys = [key for plan in plans for key in plan.key_ids]
    assert len(keys) == len(set(keys)) == len(edge.resources("aws_api_gateway_api_key"))


# --- Lambda: invocable only by the declared source ------------------------------------------------


def _resolve(platform: Platform, stack: Stack, expression: str) -> Address | None:
    return platform.resolve(stack, expression) if isinstance(expression, str) else None


def declared_invokers(platform: Platform, environment: str) -> dict[tuple[str, str], set[tuple[str, str, str]]]:
    """(function stack, function logical id) -> {(principal, source stack, source logical id)} of what is
    declared to invoke it: an API Gateway integration, an EventBridge target, a secret's rotation."""
    declared: dict[tuple[str, str], set[tuple[str, str, str]]] = defaultdict(set)
    for stack in platform.environment(environment):
        for body in stack.resources("aws_api_gateway_integration").values():
            function = _resolve(platform, stack, body.get("uri", ""))
            if function and function.type == "aws_lambda_function":
                api = _resolve(platform, stack, body["rest_api_id"])
                declared[(function.stack, function.logical_id)].add(("apigateway.amazonaws.com", api.stack, api.logical_id))
        for body in stack.resources("aws_cloudwatch_event_target").values():
            function = _resolve(platform, stack, body["arn"])
            rule = _resolve(platform, stack, body["rule"])
            if function and function.type == "aws_lambda_function":
                declared[(function.stack, function.logical_id)].add(("events.amazonaws.com", rule.stack, rule.logical_id))
        for body in stack.resources("aws_secretsmanager_secret_rotation").values():
            if "rotation_lambda_arn" not in body:
                continue  # rotated by RDS itself: no function
            function = _resolve(platform, stack, body["rotation_lambda_arn"])
            secret = _resolve(platform, stack, body["secret_id"])
            declared[(function.stack, function.logical_id)].add(("secretsmanager.amazonaws.com", secret.stack, secret.logical_id))
    return declared


def test_every_function_is_invocable_only_by_its_declared_source(platform, environment):
    declared = declared_invokers(platform, environment)
    functions = {(stack.name, logical_id) for stack in platform.environment(environment) for logical_id in stack.resources("aws_lambda_function")}
    permitted: dict[tuple[str, str], set[tuple[str, str, str]]] = defaultdict(set)
    for stack in platform.environment(environment):
        assert not stack.resources("aws_lambda_function_url"), f"{stack.name}: a function URL is a door around the API"
        for logical_id, permission in stack.resources("aws_lambda_permission").items():
            function = _resolve(platform, stack, permission["function_name"])
            assert function and function.type == "aws_lambda_function" and function.attribute == "function_name", f"{stack.name}: {logical_id}"
            assert permission["action"] == "lambda:InvokeFunction" and not permission.get("qualifier")
            assert stack.is_this_account(permission["source_account"]), f"{stack.name}: {logical_id} names no source account"
            # The source ARN is the source resource's ARN, or, for API Gateway, one method of one stage of it.
            (reference,) = references_in(permission["source_arn"])
            source = _resolve(platform, stack, reference)
            rest = permission["source_arn"].removeprefix(reference)
            if permission["principal"] == "apigateway.amazonaws.com":
                assert source.attribute == "execution_arn"
                (stage,) = stack.resources("aws_api_gateway_stage").values()
                assert rest == f"/{stage['stage_name']}/POST/transactions", f"{stack.name}: {logical_id} admits {rest}"
            else:
                assert (source.attribute, rest) == ("arn", ""), f"{stack.name}: {logical_id}"
            permitted[(function.stack, function.logical_id)].add((permission["principal"], source.stack, source.logical_id))
    assert set(permitted) == functions, "every function is invoked by something, each through a permission"
    assert permitted == declared
    for invokers in permitted.values():
        assert len(invokers) == 1, "one source per function"
