from __future__ import annotations

import ipaddress
from itertools import combinations

import pytest

from components.network.addressing import plan_subnets


@pytest.mark.parametrize("vpc_cidr", ["10.10.0.0/16", "10.30.0.0/18", "172.16.0.0/20"])
def test_tiers_fit_inside_the_vpc_and_never_overlap(vpc_cidr):
    plan = plan_subnets(vpc_cidr, 3)
    blocks = [ipaddress.ip_network(block) for block in (*plan.public, *plan.application, *plan.data)]
    assert len(blocks) == 9
    vpc = ipaddress.ip_network(vpc_cidr)
    assert all(block.subnet_of(vpc) for block in blocks)
    assert not any(a.overlaps(b) for a, b in combinations(blocks, 2))


def test_application_tier_gets_the_most_addresses():
    plan = plan_subnets("10.10.0.0/16", 3)
    assert plan.application[0] == "10.10.0.0/18"
    assert plan.public[0] == "10.10.192.0/21"
    assert plan.data[0] == "10.10.216.0/21"
