"""How a VPC's address space is split into the three subnet tiers, per AZ."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True)
class SubnetPlan:
    public: tuple[str, ...]
    application: tuple[str, ...]
    data: tuple[str, ...]


def plan_subnets(vpc_cidr: str, az_count: int) -> SubnetPlan:
    """Three quarters of the VPC go to the application tier (ECS tasks and Lambda ENIs are
    what grows); the last quarter is cut in eighths for the small public and data tiers."""
    vpc = ipaddress.ip_network(vpc_cidr)
    quarters = list(vpc.subnets(prefixlen_diff=2))
    eighths_of_last = list(quarters[3].subnets(prefixlen_diff=3))
    if az_count > 3:
        raise ValueError("the addressing plan has room for three AZs per tier")
    return SubnetPlan(
        application=tuple(str(block) for block in quarters[:az_count]),
        public=tuple(str(block) for block in eighths_of_last[:az_count]),
        data=tuple(str(block) for block in eighths_of_last[3 : 3 + az_count]),
    )
