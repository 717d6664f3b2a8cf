"""One security group per tier, and the least-privilege paths between them.

All tiers live in the network layer so that compute, data and edge only attach to groups and
never add rules that point back at each other (which would make stacks depend in a cycle).
Each rule is its own resource so a rule can change without replacing its group.

One way in (docs/edge.md, "No bypass"): the edge NLB's group admits nothing, so only the API
Gateway VPC link (PrivateLink, whose traffic the NLB is told not to judge by inbound rules) reaches
it; the ALB admits only that group on its production listener and nobody on the blue/green test
listener; the tasks admit only the ALB. No other group can open a connection to the ALB or a task.

The schema migration task (docs/security.md, "The master secret") has a group of its own: it opens
connections to the database and to AWS APIs, like the tasks, and admits nothing.
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
APPLICATION_PORT = 8080
POSTGRES_PORT = 5432


@dataclass(frozen=True)
class TierPorts:
    application: int = APPLICATION_PORT
    database: int = POSTGRES_PORT


@dataclass(frozen=True)
class GatewayPrefixLists:
    """The prefix lists of the S3 and DynamoDB gateway endpoints: where a tier without NAT may
    still open HTTPS connections outside the VPC's own addresses."""

    s3: str
    dynamodb: str


class TierSecurityGroups(Construct):
    """VPC link NLB → load balancer → application → database; the schema migration → database;
    Lambdas, the application and the migration reach AWS APIs through the endpoints
    (`allow_aws_api_egress`), or anywhere on 443 through NAT."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        vpc_id: str,
        has_interface_endpoints: bool,
        ports: TierPorts = TierPorts(),
    ) -> None:
        super().__init__(scope, construct_id)
        self._naming = naming
        self._vpc_id = vpc_id

        self._groups = {
            tier: self._group(tier, description)
            for tier, description in (
                ("vpc-link", "Edge NLB behind the API Gateway VPC link: PrivateLink only, no inbound rule"),
                ("load-balancer", "Internal ALB reached through the API Gateway VPC link"),
                ("application", "fraud-api ECS tasks"),
                ("lambda", "Lambda functions in the application subnets"),
                ("database", "Aurora PostgreSQL cluster"),
                ("endpoints", "Interface VPC endpoints for AWS APIs"),
                ("migration", "fraud-api schema migration task (run once per release)"),
            )
        }
        self.vpc_link = self._groups["vpc-link"]
        self.load_balancer = self._groups["load-balancer"]
        self.application = self._groups["application"]
        self.lambda_functions = self._groups["lambda"]
        self.database = self._groups["database"]
        self.endpoints = self._groups["endpoints"]
        self.migration = self._groups["migration"]
        attached_elsewhere = ["vpc-link", "load-balancer", "application", "lambda", "database"]
        if not has_interface_endpoints:
            attached_elsewhere.append("endpoints")
        for tier in attached_elsewhere:
            skip_check(
                self._groups[tier],
                "CKV2_AWS_5",
                "attached by a downstream stack (compute, data, edge): groups live in the network layer so layers never depend in a cycle",
            )
        skip_check(
            self.migration,
            "CKV2_AWS_5",
            "attached when the release runs the schema migration task in it (ecs run-task with the compute layer's outputs), not by a resource",
        )

        # No inbound rule on the NLB's group: the VPC link's PrivateLink traffic is not judged by
        # inbound rules (the edge NLB turns that enforcement off), everything else in the VPC is
        # refused. Health checks obey only the outbound rule.
        self._allow_out("vpc-link", HTTPS_PORT, why="TLS pass-through and health checks to the ALB", peer="load-balancer")
        # Only the production listener, only from the NLB. The blue/green test listener (8443)
        # admits nobody: no deployment hook runs test traffic through it (docs/compute.md).
        self._allow_in("load-balancer", HTTPS_PORT, why="production listener from the edge NLB", peer="vpc-link")
        self._allow_out("load-balancer", ports.application, why="forward to fraud-api tasks", peer="application")

        self._allow_in("application", ports.application, why="traffic from the ALB", peer="load-balancer")
        self._allow_out("application", ports.database, why="PostgreSQL", peer="database")

        self._allow_in("database", ports.database, why="PostgreSQL from fraud-api", peer="application")
        # The schema owner's one-off login (the migration task), never the serving tasks' path.
        self._allow_out("migration", ports.database, why="PostgreSQL as the schema owner", peer="database")
        self._allow_in("database", ports.database, why="PostgreSQL from the schema migration task", peer="migration")

        for client in ("application", "lambda", "migration"):
            self._allow_in("endpoints", HTTPS_PORT, why=f"AWS API calls from {client}", peer=client)

    def allow_aws_api_egress(self, *, through_nat: bool, gateways: GatewayPrefixLists) -> None:
        """How the application and Lambda tiers reach AWS APIs: anywhere on 443 where NAT leads
        out, else only the interface endpoints and the gateway endpoint each tier uses (image
        layers from S3 for the tasks, the transactions table in DynamoDB for the functions)."""
        if through_nat:
            for tier in ("application", "migration"):
                self._allow_out(tier, HTTPS_PORT, why="AWS APIs and image pulls through endpoints or NAT", cidr="0.0.0.0/0")
            self._allow_out("lambda", HTTPS_PORT, why="AWS APIs through endpoints or NAT", cidr="0.0.0.0/0")
            return
        for tier in ("application", "lambda", "migration"):
            self._allow_out(tier, HTTPS_PORT, why="AWS APIs through the interface endpoints", peer="endpoints")
        for tier in ("application", "migration"):
            self._allow_out(tier, HTTPS_PORT, why="image layers from S3 through the gateway endpoint", prefix_list=("s3", gateways.s3))
        self._allow_out("lambda", HTTPS_PORT, why="DynamoDB through the gateway endpoint", prefix_list=("dynamodb", gateways.dynamodb))

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

    def _allow_in(self, tier: str, port: int, *, why: str, peer: str) -> None:
        self._rule(VpcSecurityGroupIngressRule, f"{tier}-in-{peer}-{port}", tier, port, why, peer=peer)

    def _allow_out(
        self, tier: str, port: int, *, why: str, cidr: str | None = None, peer: str | None = None, prefix_list: tuple[str, str] | None = None
    ) -> None:
        target = peer or (prefix_list[0] if prefix_list else "cidr")
        self._rule(VpcSecurityGroupEgressRule, f"{tier}-out-{target}-{port}", tier, port, why, cidr=cidr, peer=peer, prefix_list_id=prefix_list[1] if prefix_list else None)

    def _rule(
        self, resource, rule_id: str, tier: str, port: int, why: str, *, cidr: str | None = None, peer: str | None = None, prefix_list_id: str | None = None
    ) -> None:
        resource(
            self,
            rule_id,
            security_group_id=self._groups[tier].id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            cidr_ipv4=cidr,
            referenced_security_group_id=self._groups[peer].id if peer else None,
            prefix_list_id=prefix_list_id,
            description=why,
        )
