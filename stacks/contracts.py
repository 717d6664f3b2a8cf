"""What each layer exports to the layers above it, and nothing more.

A producer stack builds its contract from its own resources; a consumer receives the contract
as a constructor argument and never reaches into the producer's constructs. The values are
Terraform tokens: used in another stack, cdktf turns each into an output of the producer and a
`terraform_remote_state` read in the consumer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SecurityGroupIds:
    """One security group per tier; all live in the network layer so no layer has a cycle."""

    load_balancer: str
    application: str
    lambda_functions: str
    database: str
    endpoints: str


@dataclass(frozen=True)
class NetworkContract:
    vpc_id: str
    vpc_cidr: str
    public_subnet_ids: tuple[str, ...]
    application_subnet_ids: tuple[str, ...]
    data_subnet_ids: tuple[str, ...]
    nat_gateway_ids: tuple[str, ...]
    security_group_ids: SecurityGroupIds
    flow_log_bucket_name: str
    flow_log_bucket_arn: str


@dataclass(frozen=True)
class DataContract:
    database_subnet_group_name: str


@dataclass(frozen=True)
class ComputeContract:
    cluster_name: str
    load_balancer_arn: str


@dataclass(frozen=True)
class EdgeContract:
    vpc_link_load_balancer_arn: str
