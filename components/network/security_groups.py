"""One security group per tier, and the least-privilege paths between them.

All tiers live in the network layer so that compute, data and edge only attach to groups and
never add rules that point back at each other (which would make stacks depend in a cycle).
Each rule is its own resource so a rule can change without replacing its group.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from components.compliance import skip_check
from components.naming import ResourceNamer

HTTPS_PORT = 443
# The port CodeDeploy's blue/green test listener serves the replacement task set on.
TEST_LISTENER_PORT = 8443
APPLICATION_PORT = 8080
POSTGRES_PORT = 5432


@dataclass(frozen=True)
class TierPorts:
    application: int = APPLICATION_PORT
    database: int = POSTGRES_PORT


class TierSecurityGroups(Construct):
    """Load balancer → application → database; Lambdas and the application reach AWS APIs
    through the endpoints tier (or NAT where an environment has no interface endpoints)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        vpc_id: str,
        vpc_cidr: str,
        has_interface_endpoints: bool,
        ports: TierPorts = TierPorts(),
    ) -> None:
        super().__init__(scope, construct_id)
        self._naming = naming
        self._vpc_id = vpc_id

        self._groups = {
            tier: self._group(tier, description)
            for tier, description in (
                ("load-balancer", "Internal ALB reached through the API Gateway VPC link"),
                ("application", "fraud-api ECS tasks"),
                ("lambda", "Lambda functions in the application subnets"),
                ("database", "Aurora PostgreSQL cluster"),
                ("endpoints", "Interface VPC endpoints for AWS APIs"),
            )
        }
        self.load_balancer = self._groups["load-balancer"]
        self.application = self._groups["application"]
        self.lambda_functions = self._groups["lambda"]
        self.database = self._groups["database"]
        self.endpoints = self._groups["endpoints"]
        attached_elsewhere = ["load-balancer", "application", "lambda", "database"]
        if not has_interface_endpoints:
            attached_elsewhere.append("endpoints")
        for tier in attached_elsewhere:
            skip_check(
                self._groups[tier],
                "CKV2_AWS_5",
                "attached by a downstream stack (compute, data, edge): groups live in the network layer so layers never depend in a cycle",
            )

        # The load balancer is internal: the API Gateway VPC link's network load balancer is
        # the only caller, from inside the VPC, so nothing is open to the internet.
        for port, purpose in ((HTTPS_PORT, "production"), (TEST_LISTENER_PORT, "blue/green test")):
            self._allow_in("load-balancer", port, why=f"{purpose} listener from the VPC link", cidr=vpc_cidr)
        self._allow_out("load-balancer", ports.application, why="forward to fraud-api tasks", peer="application")

        self._allow_in("application", ports.application, why="traffic from the ALB", peer="load-balancer")
        self._allow_out("application", ports.database, why="PostgreSQL", peer="database")
        self._allow_out("application", HTTPS_PORT, why="AWS APIs and image pulls through endpoints or NAT", cidr="0.0.0.0/0")

        self._allow_out("lambda", HTTPS_PORT, why="AWS APIs through endpoints or NAT", cidr="0.0.0.0/0")

        self._allow_in("database", ports.database, why="PostgreSQL from fraud-api", peer="application")

        for client in ("application", "lambda"):
            self._allow_in("endpoints", HTTPS_PORT, why=f"AWS API calls from {client}", peer=client)

    def _group(self, tier: str, description: str) -> SecurityGroup:
        # No inline rules: an empty group denies everything until a rule below allows it,
        # including egress (Terraform removes AWS's default allow-all egress rule).
        return SecurityGroup(
            self,
            tier,
            name=self._naming.name(tier),
            description=description,
            vpc_id=self._vpc_id,
            tags={"Name": self._naming.name(tier)},
        )

    def _allow_in(self, tier: str, port: int, *, why: str, cidr: str | None = None, peer: str | None = None) -> None:
        self._rule(VpcSecurityGroupIngressRule, f"{tier}-in-{peer or 'cidr'}-{port}", tier, port, why, cidr, peer)

    def _allow_out(self, tier: str, port: int, *, why: str, cidr: str | None = None, peer: str | None = None) -> None:
        self._rule(VpcSecurityGroupEgressRule, f"{tier}-out-{peer or 'cidr'}-{port}", tier, port, why, cidr, peer)

    def _rule(self, resource, rule_id: str, tier: str, port: int, why: str, cidr: str | None, peer: str | None) -> None:
        resource(
            self,
            rule_id,
            security_group_id=self._groups[tier].id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            cidr_ipv4=cidr,
            referenced_security_group_id=self._groups[peer].id if peer else None,
            description=why,
        )
