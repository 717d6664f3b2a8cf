"""What the account must already have before an environment deploys.

On real AWS these are prerequisites the lifecycle only checks (and names how to fix). In the
emulator, which starts empty, it creates them, so the stacks meet the same world they would in
a real account.

On AWS it also checks what a first apply would otherwise discover by failing half-way: the
account quotas this environment's resources use (Lambda concurrency, Elastic IPs, VPCs) and the
fraud-api image in ECR. Each shortfall is one line with its fix; all of them are reported at once.
The emulator has no quotas and runs no tasks, so these are not checked there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from config.settings import EnvironmentConfig
from lifecycle.states import S3StateReader, StateReader, StateSummary, state_key
from stacks.layers import Layer


class PrerequisiteMissing(Exception):
    """The account lacks something the stacks read; the message says how to provide it."""


@dataclass(frozen=True)
class Prerequisite:
    description: str
    exists: Callable[[Any, EnvironmentConfig], bool]
    create: Callable[[Any, EnvironmentConfig], None]
    how_to_fix: str


@dataclass(frozen=True)
class Check:
    """The outcome of one account check: what was found, and when it falls short, how to fix it."""

    found: str
    fix: str | None = None

    @property
    def line(self) -> str:
        return self.found if self.fix is None else f"{self.found}: {self.fix}"


def _zone_name(config: EnvironmentConfig) -> str:
    return config.edge.hosted_zone_name.rstrip(".") + "."


def _hosted_zone_exists(session: Any, config: EnvironmentConfig) -> bool:
    route53 = session.client("route53")
    zones = route53.list_hosted_zones_by_name(DNSName=_zone_name(config), MaxItems="1")["HostedZones"]
    return any(zone["Name"] == _zone_name(config) and not zone["Config"].get("PrivateZone") for zone in zones)


def _create_hosted_zone(session: Any, config: EnvironmentConfig) -> None:
    session.client("route53").create_hosted_zone(
        Name=_zone_name(config),
        CallerReference=str(uuid.uuid4()),
        HostedZoneConfig={"Comment": "The organisation's public zone (created by the lifecycle in the emulator)", "PrivateZone": False},
    )


PREREQUISITES: tuple[Prerequisite, ...] = (
    Prerequisite(
        description="public Route 53 hosted zone {zone}",
        exists=_hosted_zone_exists,
        create=_create_hosted_zone,
        how_to_fix=(
            "create the public hosted zone {zone} in this account and delegate it from its parent domain, "
            "or point FRAUD_HOSTED_ZONE at a zone you own"
        ),
    ),
)


# --- quotas ---------------------------------------------------------------------------------------

# AWS keeps this much of the account's Lambda concurrency unreserved for functions without a
# reservation ("you can reserve up to the Unreserved account concurrency minus 100",
# PutFunctionConcurrency). Accounts whose limit is below it (new accounts often have 10) keep
# their whole limit unreserved: PutFunctionConcurrency answers "...decreases account's
# UnreservedConcurrentExecution below its minimum value of [10]", so they can reserve nothing.
LAMBDA_UNRESERVED_MINIMUM = 100
# The compute layer's pipeline functions, each reserving compute.lambda_reserved_concurrency
# (components/compute/pipeline_functions.py: transaction_processor and pattern_analyzer).
PIPELINE_FUNCTION_COUNT = 2
# Service Quotas codes of what a deploy consumes.
LAMBDA_CONCURRENCY_QUOTA = ("lambda", "L-B99A9384", "Concurrent executions")
ELASTIC_IP_QUOTA = ("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs")
VPC_QUOTA = ("vpc", "L-F678F1CE", "VPCs per Region")


def reserved_concurrency(config: EnvironmentConfig) -> int:
    """What this environment's functions reserve in all: the pipeline's and the data layer's rotation function."""
    return config.compute.lambda_reserved_concurrency * PIPELINE_FUNCTION_COUNT + config.data.rotation_function_reserved_concurrency


def nat_gateway_count(config: EnvironmentConfig) -> int:
    """NAT gateways the network layer creates, each holding one Elastic IP (components/network/tiered_vpc.py)."""
    return config.network.nat_gateway_count


def _deployed_instances(state: StateSummary | None, resource_type: str) -> list[dict[str, Any]]:
    return [] if state is None else state.instances(resource_type)


def _quota(clients: Any, quota: tuple[str, str, str]) -> float:
    """The applied quota value, or AWS's default where the account never changed it."""
    service_quotas = clients.client("service-quotas")
    service, code, _ = quota
    try:
        return float(service_quotas.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"])
    except service_quotas.exceptions.NoSuchResourceException:
        return float(service_quotas.get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"])


def _increase(quota: tuple[str, str, str], region: str, value: int) -> str:
    service, code, name = quota
    return (f"request '{name}' of at least {value} in {region} (aws service-quotas request-service-quota-increase "
            f"--service-code {service} --quota-code {code} --desired-value {value})")


def check_lambda_concurrency(clients: Any, config: EnvironmentConfig, states: dict[Layer, StateSummary | None]) -> Check:
    limits = clients.client("lambda").get_account_settings()["AccountLimit"]
    limit, unreserved = int(limits["ConcurrentExecutions"]), int(limits["UnreservedConcurrentExecutions"])
    # A redeploy keeps the reservations its functions already hold (counted out of `unreserved`).
    held = sum(
        max(0, int(function.get("reserved_concurrent_executions", -1)))
        for layer in (Layer.DATA, Layer.COMPUTE)
        for function in _deployed_instances(states.get(layer), "aws_lambda_function")
    )
    wanted = reserved_concurrency(config)
    more = max(0, wanted - held)
    minimum = min(LAMBDA_UNRESERVED_MINIMUM, limit)
    found = (f"Lambda concurrency: limit {limit}, {unreserved} unreserved; {config.name} reserves {wanted}"
             f"{f' ({held} held already)' if held else ''}, and {minimum} must stay unreserved")
    if unreserved - more >= minimum:
        return Check(found)
    needed_limit = limit - unreserved + more + LAMBDA_UNRESERVED_MINIMUM
    return Check(found, _increase(LAMBDA_CONCURRENCY_QUOTA, config.region, needed_limit)
                 + ", or lower compute.lambda_reserved_concurrency and data.rotation_function_reserved_concurrency in config/environments.py")


def check_elastic_ips(clients: Any, config: EnvironmentConfig, states: dict[Layer, StateSummary | None]) -> Check:
    quota = int(_quota(clients, ELASTIC_IP_QUOTA))
    allocated = len(clients.client("ec2").describe_addresses(Filters=[{"Name": "domain", "Values": ["vpc"]}])["Addresses"])
    more = max(0, nat_gateway_count(config) - len(_deployed_instances(states.get(Layer.NETWORK), "aws_eip")))
    found = f"Elastic IPs: quota {quota}, {allocated} allocated; {config.name}'s NAT gateways need {more} more"
    if allocated + more <= quota:
        return Check(found)
    return Check(found, "release unused ones (aws ec2 describe-addresses --query 'Addresses[?AssociationId==null].AllocationId') or "
                 + _increase(ELASTIC_IP_QUOTA, config.region, allocated + more))


def check_vpcs(clients: Any, config: EnvironmentConfig, states: dict[Layer, StateSummary | None]) -> Check:
    quota = int(_quota(clients, VPC_QUOTA))
    in_use = sum(len(page["Vpcs"]) for page in clients.client("ec2").get_paginator("describe_vpcs").paginate())
    more = 0 if _deployed_instances(states.get(Layer.NETWORK), "aws_vpc") else 1
    found = f"VPCs: quota {quota}, {in_use} in use (the default VPC counts); {config.name} needs {more} more"
    if in_use + more <= quota:
        return Check(found)
    return Check(found, "delete an unused VPC or " + _increase(VPC_QUOTA, config.region, in_use + more))


# --- the fraud-api image ------------------------------------------------------------------------


@dataclass(frozen=True)
class EcrImage:
    """An image reference in ECR: the repository, and the digest or tag the task definition pulls."""

    repository: str
    digest: str | None
    tag: str | None
    registry_id: str | None = None
    region: str | None = None

    @classmethod
    def parse(cls, reference: str) -> EcrImage | None:
        """`fraud-api@sha256:...` or `fraud-api:1.2` (this account's ECR, as the compute layer resolves them) or
        `<account>.dkr.ecr.<region>.amazonaws.com/<repository>...`; None for any other registry."""
        registry_id = region = None
        first, _, rest = reference.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            if ".dkr.ecr." not in first:
                return None
            registry_id, _, _, region, *_ = first.split(".")
            reference = rest
        name, _, digest = reference.partition("@")
        repository, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "")
        return cls(repository, digest or None, None if digest else (tag or "latest"), registry_id, region)

    @property
    def image_id(self) -> dict[str, str]:
        return {"imageDigest": self.digest} if self.digest else {"imageTag": str(self.tag)}

    def describe(self) -> str:
        return f"{self.repository}@{self.digest}" if self.digest else f"{self.repository}:{self.tag}"


def check_image(clients: Any, config: EnvironmentConfig, states: dict[Layer, StateSummary | None]) -> Check:
    reference = config.compute.fraud_api_image
    image = EcrImage.parse(reference)
    if image is None:
        return Check(f"fraud-api image {reference}: not in ECR, not checked")
    if image.region not in (None, config.region):
        return Check(f"fraud-api image {reference}: in ECR of {image.region}, not checked from {config.region}")
    ecr = clients.client("ecr")
    owner = {"registryId": image.registry_id} if image.registry_id else {}
    try:
        ecr.describe_images(repositoryName=image.repository, imageIds=[image.image_id], **owner)
    except ecr.exceptions.RepositoryNotFoundException:
        return Check(f"fraud-api image {image.describe()}: ECR repository {image.repository} does not exist",
                     "apply the bootstrap stack (it creates the repository), then build and push the image (build-image workflow, or docs/lifecycle.md \"Release\")")
    except ecr.exceptions.ImageNotFoundException:
        return Check(f"fraud-api image {image.describe()}: not in ECR repository {image.repository}",
                     f"push it (build-image workflow), or set FRAUD_API_IMAGE to a digest the repository holds "
                     f"(aws ecr describe-images --repository-name {image.repository})")
    return Check(f"fraud-api image {image.describe()}: in ECR")


@dataclass(frozen=True)
class AccountCheck:
    label: str
    # What the deploy role must be allowed to read for the check.
    permissions: tuple[str, ...]
    run: Callable[[Any, EnvironmentConfig, dict[Layer, StateSummary | None]], Check]

    def __call__(self, clients: Any, config: EnvironmentConfig, states: dict[Layer, StateSummary | None]) -> Check:
        from botocore.exceptions import ClientError

        try:
            return self.run(clients, config, states)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "error")
            return Check(f"{self.label}: not checked ({code})", f"allow the deploy role {', '.join(self.permissions)}")


ACCOUNT_CHECKS: tuple[AccountCheck, ...] = (
    AccountCheck("Lambda concurrency", ("lambda:GetAccountSettings",), check_lambda_concurrency),
    AccountCheck("Elastic IPs", ("servicequotas:GetServiceQuota", "servicequotas:GetAWSDefaultServiceQuota", "ec2:DescribeAddresses"), check_elastic_ips),
    AccountCheck("VPCs", ("servicequotas:GetServiceQuota", "servicequotas:GetAWSDefaultServiceQuota", "ec2:DescribeVpcs"), check_vpcs),
    AccountCheck("fraud-api image", ("ecr:DescribeImages",), check_image),
)


def ensure_prerequisites(clients: Any, config: EnvironmentConfig, *, create: bool, reader: StateReader | None = None) -> list[str]:
    """Check every prerequisite; create the missing ones when `create` (the emulator). Returns what was found or done.

    On AWS (`create` false), also checks the account's quotas and the image; raises
    PrerequisiteMissing with one line per shortfall.
    """
    done, shortfalls = [], []
    for prerequisite in PREREQUISITES:
        description = prerequisite.description.format(zone=_zone_name(config))
        if prerequisite.exists(clients, config):
            done.append(f"{description}: present")
        elif create:
            prerequisite.create(clients, config)
            done.append(f"{description}: created")
        else:
            shortfalls.append(f"{description} is missing: " + prerequisite.how_to_fix.format(zone=_zone_name(config)))
    if not create:
        # What this environment already holds (a redeploy needs no second VPC or reservation).
        reader = reader or S3StateReader(config.state.bucket, clients.client("s3"))
        states = {layer: reader.read(state_key(config.name, layer)) for layer in (Layer.NETWORK, Layer.DATA, Layer.COMPUTE)}
        for check in ACCOUNT_CHECKS:
            outcome = check(clients, config, states)
            (done if outcome.fix is None else shortfalls).append(outcome.line)
    if shortfalls:
        raise PrerequisiteMissing("\n".join(
            [f"{len(shortfalls)} account prerequisite(s) missing for {config.name}:", *(f"  - {line}" for line in shortfalls)]
        ))
    return done
