"""Network segmentation over all five stacks of every environment.

The design has no internet ingress at all: the ALB is internal, API Gateway reaches it through a
VPC link to an internal NLB (docs/edge.md), so no security group admits anything from outside the
VPC. Public subnets hold only the NAT gateways; the data subnets have no route out of the VPC.
Subnet and security-group references are resolved through remote state to the network layer's
resources, so "in the application subnets" means exactly those subnets.
"""

from __future__ import annotations

import pytest

from config.settings import NatStrategy
from tests.security.synthesized import ENVIRONMENTS, Platform, Stack, references_in

OPEN_TO_THE_WORLD = {"0.0.0.0/0", "::/0"}
# What may sit in a public subnet: the NAT gateways (egress only) and the subnets' route associations.
PUBLIC_SUBNET_RESIDENTS = {"aws_nat_gateway", "aws_route_table_association"}
# Route targets that leave the VPC.
EXTERNAL_TARGETS = (
    "gateway_id", "nat_gateway_id", "egress_only_gateway_id", "transit_gateway_id",
    "vpc_peering_connection_id", "carrier_gateway_id", "core_network_arn", "network_interface_id", "vpc_endpoint_id",
)


@pytest.fixture(params=ENVIRONMENTS)
def environment(request) -> str:
    return request.param


def network_of(platform: Platform, environment: str) -> Stack:
    return platform.stack(f"network-{environment}")


def subnets_by_tier(platform: Platform, environment: str) -> dict[str, set[str]]:
    """Tier → logical ids of the network layer's subnets of that tier."""
    tiers: dict[str, set[str]] = {}
    for logical_id, subnet in network_of(platform, environment).resources("aws_subnet").items():
        tiers.setdefault(subnet["tags"]["Tier"], set()).add(logical_id)
    return tiers


def subnet_references(platform: Platform, environment: str):
    """(stack, resource type, logical id, tier) for every resource of the environment that names a subnet."""
    network = network_of(platform, environment)
    tier_of = {logical_id: tier for tier, ids in subnets_by_tier(platform, environment).items() for logical_id in ids}
    for stack in platform.environment(environment):
        for resource_type, logical_id, body in stack.all_resources():
            for expression in references_in({key: value for key, value in body.items() if key != "//"}):
                address = platform.resolve(stack, expression)
                if address and address.type == "aws_subnet" and address.stack == network.name and address.attribute == "id":
                    yield stack, resource_type, logical_id, tier_of[address.logical_id]


def resolved(platform: Platform, stack: Stack, expressions) -> list:
    return [platform.resolve(stack, expression) for expression in expressions]


def test_no_security_group_admits_anything_from_outside_the_vpc(platform, environment):
    vpc_cidr = next(iter(network_of(platform, environment).resources("aws_vpc").values()))["cidr_block"]
    ingress = []
    for stack in platform.environment(environment):
        for logical_id, rule in stack.resources("aws_vpc_security_group_ingress_rule").items():
            ingress.append((stack, logical_id, [rule.get("cidr_ipv4"), rule.get("cidr_ipv6")], rule.get("referenced_security_group_id"), rule.get("prefix_list_id")))
        for logical_id, rule in stack.resources("aws_security_group_rule").items():
            if rule["type"] == "ingress":
                ingress.append((stack, logical_id, rule.get("cidr_blocks", []) + rule.get("ipv6_cidr_blocks", []), rule.get("source_security_group_id"), rule.get("prefix_list_ids")))
        for resource_type in ("aws_security_group", "aws_default_security_group"):
            for logical_id, group in stack.resources(resource_type).items():
                for rule in group.get("ingress", []):
                    ingress.append((stack, logical_id, rule.get("cidr_blocks", []) + rule.get("ipv6_cidr_blocks", []), rule.get("security_groups"), rule.get("prefix_list_ids")))
    assert ingress, "the tiers admit each other: there must be ingress rules to judge"

    for stack, logical_id, cidrs, peer, prefix_lists in ingress:
        cidrs = {cidr for cidr in cidrs if cidr}
        assert not cidrs & OPEN_TO_THE_WORLD, f"{stack.name}: {logical_id} admits the internet"
        # Stronger than "not 0.0.0.0/0": a peer security group, or at most the VPC itself.
        assert cidrs <= {vpc_cidr}, f"{stack.name}: {logical_id} admits {sorted(cidrs)}, outside the VPC {vpc_cidr}"
        assert not prefix_lists, f"{stack.name}: {logical_id} admits a prefix list"
        assert peer or cidrs, f"{stack.name}: {logical_id} admits nothing named"


def test_no_load_balancer_faces_the_internet(platform, environment):
    balancers = [(stack, logical_id, body) for stack in platform.environment(environment) for resource_type in ("aws_lb", "aws_alb") for logical_id, body in stack.resources(resource_type).items()]
    assert {body["load_balancer_type"] for _, _, body in balancers} == {"application", "network"}
    for stack, logical_id, body in balancers:
        assert body["internal"] is True, f"{stack.name}: {logical_id} is internet-facing"
    assert not any(stack.resources("aws_elb") for stack in platform.environment(environment)), "classic ELBs are internet-facing by default"


def test_nothing_but_nat_gateways_lives_in_the_public_subnets(platform, environment):
    placed = list(subnet_references(platform, environment))
    assert {tier for *_, tier in placed} == {"public", "application", "data"}
    for stack, resource_type, logical_id, tier in placed:
        if tier == "public":
            assert resource_type in PUBLIC_SUBNET_RESIDENTS, f"{stack.name}: {resource_type}.{logical_id} sits in a public subnet"


def test_no_subnet_hands_out_public_addresses(platform, environment):
    for logical_id, subnet in network_of(platform, environment).resources("aws_subnet").items():
        assert subnet["map_public_ip_on_launch"] is False, logical_id
        assert not subnet.get("assign_ipv6_address_on_creation"), logical_id


def test_data_subnets_have_no_route_out_of_the_vpc(platform, environment):
    network = network_of(platform, environment)
    data_subnets = subnets_by_tier(platform, environment)["data"]
    tables = {}
    for association in network.resources("aws_route_table_association").values():
        subnet = platform.resolve(network, association["subnet_id"])
        if subnet.logical_id in data_subnets:
            tables[subnet.logical_id] = platform.resolve(network, association["route_table_id"]).logical_id
    # An unassociated subnet would fall back to the main route table, which nobody here checks.
    assert set(tables) == data_subnets, "every data subnet has its own explicit route table association"

    for table in set(tables.values()):
        body = network.resources("aws_route_table")[table]
        assert not body.get("route"), f"inline routes on the data route table {table}"
        table_reference = f"${{aws_route_table.{table}.id}}"
        for stack in platform.environment(environment):
            for logical_id, route in stack.resources("aws_route").items():
                target = platform.resolve(stack, route["route_table_id"])
                assert (target.stack, target.logical_id) != (network.name, table), f"{stack.name}: route {logical_id} on the data route table"
            for logical_id, endpoint in stack.resources("aws_vpc_endpoint").items():
                assert table_reference not in endpoint.get("route_table_ids", []), f"{stack.name}: endpoint {logical_id} routes from the data tier"
            for logical_id, association in stack.resources("aws_vpc_endpoint_route_table_association").items():
                target = platform.resolve(stack, association["route_table_id"])
                assert (target.stack, target.logical_id) != (network.name, table), f"{stack.name}: {logical_id}"


def test_application_subnets_leave_only_through_nat_or_not_at_all(platform, environment, synthesis):
    """Where the environment has NAT, its gateways are the only way out; where it has none (prod,
    staging), the application tier has no route out of the VPC at all, only the gateway endpoints'."""
    network = network_of(platform, environment)
    application = subnets_by_tier(platform, environment)["application"]
    tables = {
        platform.resolve(network, association["route_table_id"]).logical_id
        for association in network.resources("aws_route_table_association").values()
        if platform.resolve(network, association["subnet_id"]).logical_id in application
    }
    assert len(tables) == len(application), "every application subnet has its own explicit route table"
    routes = [route for route in network.resources("aws_route").values() if platform.resolve(network, route["route_table_id"]).logical_id in tables]
    has_nat = synthesis.environments[environment].network.nat_strategy is not NatStrategy.NONE
    assert bool(routes) is has_nat
    for route in routes:
        targets = {target for target in EXTERNAL_TARGETS if route.get(target)}
        assert targets == {"nat_gateway_id"}, f"application route leaves through {targets}"
    for table in tables:
        assert not network.resources("aws_route_table")[table].get("route"), f"inline routes on {table}"
    if not has_nat:
        assert not network.resources("aws_nat_gateway") and not network.resources("aws_eip")


def test_the_database_is_private_in_the_data_subnets(platform, environment):
    data = platform.stack(f"data-{environment}")
    tiers = subnets_by_tier(platform, environment)
    instances = data.resources("aws_rds_cluster_instance")
    assert instances
    for logical_id, instance in instances.items():
        assert instance["publicly_accessible"] is False, f"{data.name}: {logical_id}"
    assert not data.resources("aws_db_instance")
    for logical_id, group in data.resources("aws_db_subnet_group").items():
        subnets = {address.logical_id for address in resolved(platform, data, group["subnet_ids"])}
        assert subnets == tiers["data"], f"{data.name}: {logical_id} spans {subnets}"
    (cluster,) = data.resources("aws_rds_cluster").values()
    groups = resolved(platform, data, cluster["vpc_security_group_ids"])
    assert [platform.path(group) for group in groups] == ["security-groups/database"]


def test_ecs_tasks_get_no_public_address(platform, environment):
    compute = platform.stack(f"compute-{environment}")
    application = subnets_by_tier(platform, environment)["application"]
    services = compute.resources("aws_ecs_service")
    assert services
    for logical_id, service in services.items():
        network = service["network_configuration"]
        assert network["assign_public_ip"] is False, f"{compute.name}: {logical_id}"
        assert {address.logical_id for address in resolved(platform, compute, network["subnets"])} == application
        assert [platform.path(group) for group in resolved(platform, compute, network["security_groups"])] == ["security-groups/application"]


def test_every_lambda_runs_in_the_application_subnets(platform, environment):
    application = subnets_by_tier(platform, environment)["application"]
    functions = [(stack, logical_id, body) for stack in platform.environment(environment) for logical_id, body in stack.resources("aws_lambda_function").items()]
    assert functions
    for stack, logical_id, function in functions:
        vpc = function.get("vpc_config")
        assert vpc, f"{stack.name}: {logical_id} runs outside the VPC"
        assert {address.logical_id for address in resolved(platform, stack, vpc["subnet_ids"])} == application, f"{stack.name}: {logical_id}"
        assert [platform.path(group) for group in resolved(platform, stack, vpc["security_group_ids"])] == ["security-groups/lambda"]
