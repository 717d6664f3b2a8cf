"""Account prerequisites: created in the emulator; on AWS only checked, with the account's quotas and the
fraud-api image, one line per shortfall with its fix. AWS answers come from botocore's Stubber."""

from __future__ import annotations

import dataclasses

import pytest

from config.environments import build_environments
from lifecycle.prerequisites import (
    ELASTIC_IP_QUOTA,
    VPC_QUOTA,
    EcrImage,
    PrerequisiteMissing,
    ensure_prerequisites,
    nat_gateway_count,
    reserved_concurrency,
)
from lifecycle.states import state_key
from stacks.layers import Layer
from tests.lifecycle.fakes import FakeStateReader
from tests.lifecycle.stubbed_aws import ACCOUNT, StubbedClients

DIGEST = "sha256:" + "c" * 64
ZONE = "fraud.example.com."


def environment(name: str = "dev", image: str = f"fraud-api@{DIGEST}"):
    config = build_environments()[name]
    return dataclasses.replace(config, compute=dataclasses.replace(config.compute, fraud_api_image=image))


def zone(clients: StubbedClients, *, name: str = ZONE, private: bool = False, present: bool = True) -> None:
    zones = [{"Id": "/hostedzone/Z1", "Name": name, "CallerReference": "r", "Config": {"PrivateZone": private}}] if present else []
    clients.stub("route53").add_response(
        "list_hosted_zones_by_name", {"HostedZones": zones, "IsTruncated": False, "MaxItems": "1"}, {"DNSName": ZONE, "MaxItems": "1"}
    )


def account(
    clients: StubbedClients,
    *,
    lambda_limit: int,
    unreserved: int,
    eip_quota: float | None,
    eips: int,
    vpc_quota: float,
    vpcs: int,
    image: str | None,
) -> None:
    """One account's answers; `eip_quota=None`: never changed (Service Quotas knows only the default, 5);
    `image`: None when in ECR, else the error code ECR answers."""
    clients.stub("lambda").add_response(
        "get_account_settings", {"AccountLimit": {"ConcurrentExecutions": lambda_limit, "UnreservedConcurrentExecutions": unreserved}}, {}
    )
    quotas = clients.stub("service-quotas")

    def quota(spec: tuple[str, str, str], value: float | None) -> None:
        expected = {"ServiceCode": spec[0], "QuotaCode": spec[1]}
        if value is None:
            quotas.add_client_error("get_service_quota", service_error_code="NoSuchResourceException", expected_params=expected)
            quotas.add_response("get_aws_default_service_quota", {"Quota": {"Value": 5.0}}, expected)
        else:
            quotas.add_response("get_service_quota", {"Quota": {"Value": value}}, expected)

    ec2 = clients.stub("ec2")
    quota(ELASTIC_IP_QUOTA, eip_quota)
    ec2.add_response("describe_addresses", {"Addresses": [{"AllocationId": f"eipalloc-{index}", "Domain": "vpc"} for index in range(eips)]},
                     {"Filters": [{"Name": "domain", "Values": ["vpc"]}]})
    quota(VPC_QUOTA, vpc_quota)
    ec2.add_response("describe_vpcs", {"Vpcs": [{"VpcId": f"vpc-{index}"} for index in range(vpcs)]}, {})
    ecr = clients.stub("ecr")
    expected = {"repositoryName": "fraud-api", "imageIds": [{"imageDigest": DIGEST}]}
    if image is None:
        ecr.add_response("describe_images", {"imageDetails": [{"repositoryName": "fraud-api", "imageDigest": DIGEST}]}, expected)
    else:
        ecr.add_client_error("describe_images", service_error_code=image, expected_params=expected)


def shortfalls(error: pytest.ExceptionInfo) -> list[str]:
    return [line.removeprefix("  - ") for line in str(error.value).splitlines()[1:]]


# --- the emulator: what the account would have is created -------------------------------------


def test_the_emulator_gets_the_hosted_zone_created_once_and_no_account_checks():
    clients = StubbedClients()
    zone(clients, present=False)
    clients.stub("route53").add_response("create_hosted_zone", {
        "HostedZone": {"Id": "/hostedzone/Z1", "Name": ZONE, "CallerReference": "r"},
        "ChangeInfo": {"Id": "c", "Status": "INSYNC", "SubmittedAt": "2026-01-01T00:00:00Z"},
        "DelegationSet": {"NameServers": ["ns-1.example.net"]}, "Location": "https://route53.amazonaws.com/2013-04-01/hostedzone/Z1",
    })
    zone(clients)
    assert ensure_prerequisites(clients, environment(), create=True) == [f"public Route 53 hosted zone {ZONE}: created"]
    assert ensure_prerequisites(clients, environment(), create=True) == [f"public Route 53 hosted zone {ZONE}: present"]
    clients.assert_all_answered()
    assert set(clients.clients) == {"route53"}  # no quota, state or image was asked for


# --- AWS: checked, every shortfall at once ------------------------------------------------------


def test_a_fresh_account_lacks_lambda_concurrency_and_the_image():
    clients = StubbedClients()
    zone(clients)
    # A new account: a Lambda limit of 10, quotas never raised, the default VPC, no ECR repository yet.
    account(clients, lambda_limit=10, unreserved=10, eip_quota=None, eips=0, vpc_quota=5, vpcs=1, image="RepositoryNotFoundException")
    with pytest.raises(PrerequisiteMissing) as missing:
        ensure_prerequisites(clients, environment("dev"), create=False, reader=FakeStateReader())
    clients.assert_all_answered()
    assert str(missing.value).splitlines()[0] == "2 account prerequisite(s) missing for dev:"
    lambda_line, image_line = shortfalls(missing)
    # dev reserves 3 x 2 (pipeline) + 1 (rotation) = 7; 100 must stay unreserved: a limit of 107.
    assert lambda_line.startswith("Lambda concurrency: limit 10, 10 unreserved; dev reserves 7, and 10 must stay unreserved: "
                                  "request 'Concurrent executions' of at least 107 in us-east-1")
    assert "--quota-code L-B99A9384 --desired-value 107" in lambda_line and "config/environments.py" in lambda_line
    assert image_line.startswith(f"fraud-api image fraud-api@{DIGEST}: ECR repository fraud-api does not exist: apply the bootstrap stack")


def test_a_full_account_names_each_quota_to_raise_and_by_how_much():
    clients = StubbedClients()
    zone(clients, present=False)
    # dev (the environment with a NAT gateway): 1 NAT gateway, 3 x 2 + 1 = 7 reserved; the account has
    # 5 EIPs allocated, 5 VPCs, 102 unreserved.
    account(clients, lambda_limit=1000, unreserved=102, eip_quota=5, eips=5, vpc_quota=5, vpcs=5, image="ImageNotFoundException")
    with pytest.raises(PrerequisiteMissing) as missing:
        ensure_prerequisites(clients, environment("dev"), create=False, reader=FakeStateReader())
    lines = shortfalls(missing)
    assert len(lines) == 5
    assert lines[0].startswith(f"public Route 53 hosted zone {ZONE} is missing: create the public hosted zone")
    assert "--desired-value 1005" in lines[1]  # 1000 - 102 + 7 + 100
    assert lines[2].startswith("Elastic IPs: quota 5, 5 allocated; dev's NAT gateways need 1 more: release unused ones")
    assert "--service-code ec2 --quota-code L-0263D0A3 --desired-value 6" in lines[2]
    assert lines[3].startswith("VPCs: quota 5, 5 in use (the default VPC counts); dev needs 1 more: delete an unused VPC")
    assert "--service-code vpc --quota-code L-F678F1CE --desired-value 6" in lines[3]
    assert lines[4].startswith(f"fraud-api image fraud-api@{DIGEST}: not in ECR repository fraud-api: push it")
    clients.assert_all_answered()


def test_a_ready_account_passes_and_says_what_it_found():
    clients = StubbedClients()
    zone(clients)
    account(clients, lambda_limit=1000, unreserved=1000, eip_quota=None, eips=2, vpc_quota=5, vpcs=2, image=None)
    found = ensure_prerequisites(clients, environment("staging"), create=False, reader=FakeStateReader())
    assert found == [
        f"public Route 53 hosted zone {ZONE}: present",
        "Lambda concurrency: limit 1000, 1000 unreserved; staging reserves 7, and 100 must stay unreserved",
        # Staging has no NAT gateway (docs/architecture.md, "Egress").
        "Elastic IPs: quota 5, 2 allocated; staging's NAT gateways need 0 more",
        "VPCs: quota 5, 2 in use (the default VPC counts); staging needs 1 more",
        f"fraud-api image fraud-api@{DIGEST}: in ECR",
    ]
    clients.assert_all_answered()


def test_a_redeploy_needs_no_more_than_it_already_holds():
    # At every quota's limit, but the environment's own VPC, EIP and reservations are among them.
    network = {"version": 4, "serial": 3, "lineage": "l", "resources": [
        {"mode": "managed", "type": "aws_vpc", "name": "vpc", "instances": [{"attributes": {"id": "vpc-1"}}]},
        {"mode": "managed", "type": "aws_eip", "name": "nat-0-address", "instances": [{"attributes": {"id": "eipalloc-1"}}]},
    ]}
    functions = lambda *reserved: {"version": 4, "serial": 3, "lineage": "l", "resources": [  # noqa: E731
        {"mode": "managed", "type": "aws_lambda_function", "name": f"f{index}", "instances": [{"attributes": {"reserved_concurrent_executions": value}}]}
        for index, value in enumerate(reserved)
    ]}
    reader = FakeStateReader({
        state_key("dev", Layer.NETWORK): network,
        state_key("dev", Layer.DATA): functions(1),
        state_key("dev", Layer.COMPUTE): functions(3, 3, -1),  # -1: no reservation
    })
    clients = StubbedClients()
    zone(clients)
    account(clients, lambda_limit=1000, unreserved=100, eip_quota=5, eips=5, vpc_quota=5, vpcs=5, image=None)
    found = ensure_prerequisites(clients, environment("dev"), create=False, reader=reader)
    assert "Lambda concurrency: limit 1000, 100 unreserved; dev reserves 7 (7 held already), and 100 must stay unreserved" in found
    assert "Elastic IPs: quota 5, 5 allocated; dev's NAT gateways need 0 more" in found
    assert "VPCs: quota 5, 5 in use (the default VPC counts); dev needs 0 more" in found


def test_a_check_the_role_may_not_read_is_a_shortfall_naming_the_permission():
    clients = StubbedClients()
    zone(clients)
    clients.stub("lambda").add_client_error("get_account_settings", service_error_code="AccessDeniedException", http_status_code=403)
    quotas, ec2, ecr = clients.stub("service-quotas"), clients.stub("ec2"), clients.stub("ecr")
    for spec, count, operation, key in ((ELASTIC_IP_QUOTA, 0, "describe_addresses", "Addresses"), (VPC_QUOTA, 1, "describe_vpcs", "Vpcs")):
        quotas.add_response("get_service_quota", {"Quota": {"Value": 5.0}}, {"ServiceCode": spec[0], "QuotaCode": spec[1]})
        ec2.add_response(operation, {key: [{}] * count})
    ecr.add_response("describe_images", {"imageDetails": []})
    with pytest.raises(PrerequisiteMissing) as missing:
        ensure_prerequisites(clients, environment("dev"), create=False, reader=FakeStateReader())
    assert shortfalls(missing) == ["Lambda concurrency: not checked (AccessDeniedException): allow the deploy role lambda:GetAccountSettings"]


def test_a_private_zone_of_the_same_name_does_not_count():
    clients = StubbedClients()
    zone(clients, private=True)
    account(clients, lambda_limit=1000, unreserved=1000, eip_quota=5, eips=0, vpc_quota=5, vpcs=1, image=None)
    with pytest.raises(PrerequisiteMissing) as missing:
        ensure_prerequisites(clients, environment(), create=False, reader=FakeStateReader())
    assert [line.split(":")[0] for line in shortfalls(missing)] == [f"public Route 53 hosted zone {ZONE} is missing"]


# --- the image reference ------------------------------------------------------------------------


@pytest.mark.parametrize(("reference", "expected"), [
    (f"fraud-api@{DIGEST}", EcrImage("fraud-api", DIGEST, None)),
    ("fraud-api:1.4.2", EcrImage("fraud-api", None, "1.4.2")),
    ("team/fraud-api", EcrImage("team/fraud-api", None, "latest")),
    (f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/fraud-api@{DIGEST}", EcrImage("fraud-api", DIGEST, None, ACCOUNT, "eu-west-1")),
    ("ghcr.io/acme/fraud-api:1.0", None),
    ("localhost:5000/fraud-api:1.0", None),
])
def test_image_references_resolve_as_the_compute_layer_resolves_them(reference, expected):
    assert EcrImage.parse(reference) == expected


def test_an_image_outside_ecr_or_the_region_is_not_checked():
    from lifecycle.prerequisites import check_image

    clients = StubbedClients()
    assert check_image(clients, environment(image="ghcr.io/acme/fraud-api:1.0"), {}).line == "fraud-api image ghcr.io/acme/fraud-api:1.0: not in ECR, not checked"
    elsewhere = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/fraud-api@{DIGEST}"
    assert "not checked from us-east-1" in check_image(clients, environment(image=elsewhere), {}).line
    assert clients.clients == {}


# --- the figures match what the stacks create ---------------------------------------------------


def test_reserved_concurrency_and_nat_gateways_are_what_every_environment_synthesizes(synthesis):
    for name, config in synthesis.environments.items():
        functions = [body for stack in synthesis.stacks() if stack.name.endswith(f"-{name}")
                     for body in stack.resources("aws_lambda_function").values()]
        assert sum(body.get("reserved_concurrent_executions", 0) for body in functions) == reserved_concurrency(config), name
        assert len(synthesis.stack(Layer.NETWORK, name).resources("aws_eip")) == nat_gateway_count(config), name
