"""A VPC over N AZs with public, private application and isolated data subnets."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from constructs import Construct

from components.naming import ResourceNamer
from components.network.addressing import plan_subnets
from config.settings import NatStrategy


class TieredVpc(Construct):
    """Public subnets route to the internet gateway; application subnets leave through NAT, or
    (NatStrategy.NONE) have no route out of the VPC but the endpoints; data subnets have no route
    out of the VPC at all."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        cidr: str,
        availability_zone_ids: tuple[str, ...],
        nat_strategy: NatStrategy,
    ) -> None:
        super().__init__(scope, construct_id)
        az_count = len(availability_zone_ids)
        plan = plan_subnets(cidr, az_count)

        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": naming.name("vpc")},
        )
        # Taking over the default security group with no rules closes it for anything that
        # would otherwise land in it by accident.
        DefaultSecurityGroup(self, "default-security-group", vpc_id=self.vpc.id, tags={"Name": naming.name("default-closed")})

        def subnets(tier: str, cidrs: tuple[str, ...]) -> list[Subnet]:
            return [
                Subnet(
                    self,
                    f"{tier}-{index}",
                    vpc_id=self.vpc.id,
                    cidr_block=block,
                    # By AZ ID: the same physical zone in every account, unlike a zone name.
                    availability_zone_id=availability_zone_ids[index],
                    map_public_ip_on_launch=False,
                    tags={"Name": naming.name(tier, str(index)), "Tier": tier},
                )
                for index, block in enumerate(cidrs)
            ]

        self.public_subnets = subnets("public", plan.public)
        self.application_subnets = subnets("application", plan.application)
        self.data_subnets = subnets("data", plan.data)

        internet_gateway = InternetGateway(self, "internet-gateway", vpc_id=self.vpc.id, tags={"Name": naming.name("igw")})
        public_routes = RouteTable(self, "public-routes", vpc_id=self.vpc.id, tags={"Name": naming.name("public")})
        Route(self, "public-default-route", route_table_id=public_routes.id, destination_cidr_block="0.0.0.0/0", gateway_id=internet_gateway.id)
        for index, subnet in enumerate(self.public_subnets):
            RouteTableAssociation(self, f"public-{index}-routes", subnet_id=subnet.id, route_table_id=public_routes.id)

        nat_count = nat_strategy.gateway_count(az_count)
        self.nat_gateways = [
            NatGateway(
                self,
                f"nat-{index}",
                subnet_id=self.public_subnets[index].id,
                allocation_id=Eip(self, f"nat-{index}-address", domain="vpc", tags={"Name": naming.name("nat", str(index))}).id,
                tags={"Name": naming.name("nat", str(index))},
                depends_on=[internet_gateway],
            )
            for index in range(nat_count)
        ]

        # One route table per AZ so each AZ can use its own NAT gateway when there is one.
        self.application_route_tables: list[RouteTable] = []
        for index, subnet in enumerate(self.application_subnets):
            table = RouteTable(self, f"application-{index}-routes", vpc_id=self.vpc.id, tags={"Name": naming.name("application", str(index))})
            if self.nat_gateways:
                Route(
                    self,
                    f"application-{index}-default-route",
                    route_table_id=table.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=self.nat_gateways[index % nat_count].id,
                )
            RouteTableAssociation(self, f"application-{index}-association", subnet_id=subnet.id, route_table_id=table.id)
            self.application_route_tables.append(table)

        # Only the implicit local route: the database tier cannot reach or be reached from outside.
        self.data_route_table = RouteTable(self, "data-routes", vpc_id=self.vpc.id, tags={"Name": naming.name("data")})
        for index, subnet in enumerate(self.data_subnets):
            RouteTableAssociation(self, f"data-{index}-association", subnet_id=subnet.id, route_table_id=self.data_route_table.id)
