"""The network layer of every environment, property by property."""

from __future__ import annotations

import json
import re

import pytest

from config.settings import NatStrategy
from stacks.layers import Layer

ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture(params=ENVIRONMENTS)
def network(request, synthesis):
    return synthesis.stack(Layer.NETWORK, request.param), synthesis.environments[request.param]


def _subnets(stack, tier):
    return {name: body for name, body in stack.resources("aws_subnet").items() if body["tags"]["Tier"] == tier}


def test_vpc_spans_three_azs_with_three_tiers(network):
    stack, config = network
    vpc = stack.only("aws_vpc")
    assert vpc["cidr_block"] == config.network.vpc_cidr
    assert vpc["enable_dns_hostnames"] and vpc["enable_dns_support"]
    for tier in ("public", "application", "data"):
        subnets = _subnets(stack, tier)
        assert len(subnets) == 3, tier
        zones = {body["availability_zone_id"] for body in subnets.values()}
        assert len(zones) == 3, f"{tier} subnets share an AZ"
        assert not any(body["map_public_ip_on_launch"] for body in subnets.values())


def test_public_subnets_route_to_the_internet_gateway_only(network):
    stack, _ = network
    routes = stack.resources("aws_route")
    public = [body for body in routes.values() if "gateway_id" in body]
    assert len(public) == 1 and "aws_internet_gateway" in public[0]["gateway_id"]


def test_nat_follows_the_environment_strategy(network):
    stack, config = network
    gateways = stack.resources("aws_nat_gateway")
    expected = {NatStrategy.PER_AZ: 3, NatStrategy.SINGLE: 1, NatStrategy.NONE: 0}[config.network.nat_strategy]
    assert len(gateways) == expected
    assert len(stack.resources("aws_eip")) == expected
    application_routes = [body for body in stack.resources("aws_route").values() if "nat_gateway_id" in body]
    # Without NAT the application tier has no default route at all: nothing leaves but through endpoints.
    assert len(application_routes) == (3 if expected else 0)
    assert len({body["nat_gateway_id"] for body in application_routes}) == expected


def test_data_subnets_have_no_route_out_of_the_vpc(network):
    stack, _ = network
    data_tables = [name for name, body in stack.resources("aws_route_table").items() if body["tags"]["Name"].startswith("fraud-data-")]
    assert len(data_tables) == 1
    for route in stack.resources("aws_route").values():
        assert data_tables[0] not in route["route_table_id"]
    for table in stack.resources("aws_route_table").values():
        assert not table.get("route"), "inline routes bypass the route resources checked here"
    data_subnet_names = set(_subnets(stack, "data"))
    for association in stack.resources("aws_route_table_association").values():
        if any(f"aws_subnet.{name}." in association["subnet_id"] for name in data_subnet_names):
            assert f"aws_route_table.{data_tables[0]}." in association["route_table_id"]


def test_flow_logs_capture_all_traffic_into_the_archive_bucket(network):
    stack, config = network
    flow_log = stack.only("aws_flow_log")
    assert flow_log["traffic_type"] == "ALL"
    assert flow_log["log_destination_type"] == "s3"
    if config.network.flow_logs_to_account_archive:
        # The account's archive (bootstrap), under the environment's prefix: nothing of the layer to empty.
        assert re.fullmatch(
            rf"arn:\$\{{data\.aws_partition\.[^}}]+\}}:s3:::{config.project}-audit-flow-logs-"
            rf"\$\{{data\.aws_caller_identity\.[^}}]+\.account_id\}}-\$\{{data\.aws_region\.[^}}]+\.name\}}/vpc-flow-logs/{config.name}/",
            flow_log["log_destination"],
        ), flow_log["log_destination"]
        assert not stack.resources("aws_s3_bucket") and not stack.resources("aws_kms_key")
        assert "depends_on" not in flow_log
        return
    assert "aws_s3_bucket." in flow_log["log_destination"]
    bucket = stack.only("aws_s3_bucket")
    assert bucket["force_destroy"] is True
    lifecycle = stack.only("aws_s3_bucket_lifecycle_configuration")["rule"][0]
    assert lifecycle["status"] == "Enabled"
    assert lifecycle["transition"][0]["days"] == config.network.flow_log_transition_to_ia_days
    assert lifecycle["expiration"][0]["days"] == config.network.flow_log_expiration_days


def test_flow_log_bucket_is_private_encrypted_and_tls_only(network):
    stack, config = network
    if config.network.flow_logs_to_account_archive:
        # The archive's buckets are the bootstrap's: tests/stacks/test_bootstrap_stack.py.
        assert not stack.resources("aws_s3_bucket")
        return
    block = stack.only("aws_s3_bucket_public_access_block")
    assert all(block[flag] for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    encryption = stack.only("aws_s3_bucket_server_side_encryption_configuration")["rule"][0]
    default = encryption["apply_server_side_encryption_by_default"]
    assert default["sse_algorithm"] == "aws:kms" and "aws_kms_key." in default["kms_master_key_id"]
    documents = stack.data_sources("aws_iam_policy_document")
    deny = [
        statement
        for document in documents.values()
        for statement in document["statement"]
        if statement.get("effect") == "Deny" and statement["condition"][0]["variable"] == "aws:SecureTransport"
    ]
    assert len(deny) == 1 and deny[0]["condition"][0]["values"] == ["false"]
    key = stack.only("aws_kms_key")
    assert key["enable_key_rotation"] is True


def test_gateway_and_interface_endpoints_per_environment(network):
    stack, config = network
    endpoints = stack.resources("aws_vpc_endpoint").values()
    gateways = sorted(body["service_name"].rsplit("}.", 1)[1] for body in endpoints if body["vpc_endpoint_type"] == "Gateway")
    assert gateways == ["dynamodb", "s3"]
    interfaces = [body for body in endpoints if body["vpc_endpoint_type"] == "Interface"]
    assert sorted(body["service_name"].rsplit("}.", 1)[1] for body in interfaces) == sorted(config.network.interface_endpoint_services)
    assert all(body["private_dns_enabled"] for body in interfaces)


def test_default_security_group_has_no_rules(network):
    stack, _ = network
    default = stack.only("aws_default_security_group")
    assert not default.get("ingress") and not default.get("egress")


def _rules(stack, kind):
    # Group names are fraud-<tier>-<environment>.
    groups = {name: body["name"].removeprefix("fraud-").rsplit("-", 1)[0] for name, body in stack.resources("aws_security_group").items()}

    def tier(reference):
        return next(tier for name, tier in groups.items() if f"aws_security_group.{name}." in reference)

    for body in stack.resources(f"aws_vpc_security_group_{kind}_rule").values():
        peer = tier(body["referenced_security_group_id"]) if body.get("referenced_security_group_id") else body.get("cidr_ipv4")
        yield tier(body["security_group_id"]), body["from_port"], body["to_port"], peer


def _prefix_list_service(stack, reference):
    (service,) = [
        body["service_name"].rsplit(".", 1)[1]
        for name, body in stack.resources("aws_vpc_endpoint").items()
        if reference == f"${{aws_vpc_endpoint.{name}.prefix_list_id}}"
    ]
    return f"pl:{service}"


def test_security_groups_allow_only_the_paths_between_tiers(network):
    stack, config = network
    ingress = set(_rules(stack, "ingress"))
    # The NLB admits nothing (PrivateLink is not judged by inbound rules); the test listener nobody.
    assert ingress == {
        ("load-balancer", 443, 443, "vpc-link"),
        ("application", 8080, 8080, "load-balancer"),
        ("database", 5432, 5432, "application"),
        ("database", 5432, 5432, "migration"),
        ("endpoints", 443, 443, "application"),
        ("endpoints", 443, 443, "lambda"),
        ("endpoints", 443, 443, "migration"),
    }
    egress = {
        (tier, low, high, _prefix_list_service(stack, body["prefix_list_id"]) if peer is None else peer)
        for (tier, low, high, peer), body in zip(_rules(stack, "egress"), stack.resources("aws_vpc_security_group_egress_rule").values())
    }
    tiers = {
        ("vpc-link", 443, 443, "load-balancer"),
        ("load-balancer", 8080, 8080, "application"),
        ("application", 5432, 5432, "database"),
        ("migration", 5432, 5432, "database"),
    }
    if config.network.nat_strategy is NatStrategy.NONE:
        # Only the endpoints, and the gateway endpoint each tier uses (image layers from S3 for both tasks).
        assert egress == tiers | {
            ("application", 443, 443, "endpoints"),
            ("application", 443, 443, "pl:s3"),
            ("migration", 443, 443, "endpoints"),
            ("migration", 443, 443, "pl:s3"),
            ("lambda", 443, 443, "endpoints"),
            ("lambda", 443, 443, "pl:dynamodb"),
        }
    else:
        assert egress == tiers | {("application", 443, 443, "0.0.0.0/0"), ("migration", 443, 443, "0.0.0.0/0"), ("lambda", 443, 443, "0.0.0.0/0")}
    for body in stack.resources("aws_security_group").values():
        assert not body.get("ingress") and not body.get("egress"), "inline rules bypass the rule resources"


def test_network_contract_exposes_what_downstream_uses(synthesis):
    contract = synthesis.stacks_by_environment["dev"].network.contract
    assert len(contract.application_subnet_ids) == len(contract.data_subnet_ids) == 3
    assert len(contract.nat_gateway_ids) == 1
    assert contract.security_group_ids.database != contract.security_group_ids.application
    assert json.dumps(synthesis.stack(Layer.NETWORK, "dev").config["output"]["vpc_id"]["value"]).count("aws_vpc") == 1
