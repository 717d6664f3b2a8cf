"""API Gateway's private path to the internal ALB: VPC link → internal NLB → the ALB as target.

REST APIs reach a VPC only through a VPC link to a network load balancer. The NLB forwards
TCP 443 untouched to an `alb`-type target group whose one target is the compute layer's ALB, so
TLS runs end to end from API Gateway to the ALB, which presents the API's certificate.

The NLB has a security group with no inbound rule and does not judge PrivateLink traffic by
inbound rules: the VPC link reaches it, nothing inside the VPC does (docs/edge.md, "No bypass").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.api_gateway_vpc_link import ApiGatewayVpcLink
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.lb_target_group_attachment import LbTargetGroupAttachment
from constructs import Construct

from components.compliance import skip_check
from components.naming import LOAD_BALANCER_NAME_LIMIT, ResourceNamer

HTTPS_PORT = 443


@dataclass(frozen=True)
class AlbTarget:
    """The ALB behind the NLB: its ARN and the path it answers health checks on (over HTTPS)."""

    load_balancer_arn: str
    health_check_path: str


class PrivateIntegration(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        vpc_id: str,
        subnet_ids: Sequence[str],
        security_group_id: str,
        target: AlbTarget,
    ) -> None:
        super().__init__(scope, construct_id)
        self.load_balancer = Lb(
            self,
            "load-balancer",
            name=naming.name("vpclink", max_length=LOAD_BALANCER_NAME_LIMIT),
            load_balancer_type="network",
            # Internal, in the application subnets: only the VPC link (PrivateLink) reaches it.
            internal=True,
            subnets=list(subnet_ids),
            # A group can only be given to an NLB when it is created. It has no inbound rule, so
            # only PrivateLink traffic (exempt below) gets in: the API Gateway VPC link.
            security_groups=[security_group_id],
            enforce_security_group_inbound_rules_on_private_link_traffic="off",
            # A VPC link sends to any NLB node; each node must reach the ALB in every zone.
            enable_cross_zone_load_balancing=True,
            enable_deletion_protection=False,
        )
        skip_check(
            self.load_balancer,
            "CKV_AWS_150",
            "deletion protection is off: every environment must be destroyable without manual steps (R8.2)",
        )
        skip_check(
            self.load_balancer,
            "CKV_AWS_91",
            "NLB access logs exist only for TLS listeners; this NLB passes TCP 443 through to the ALB (alb targets "
            "allow TCP listeners only), and every request is logged by API Gateway access logs, WAF logs and ALB access logs",
        )

        self.target_group = LbTargetGroup(
            self,
            "target-group",
            name=naming.name("vpclink-alb", max_length=LOAD_BALANCER_NAME_LIMIT),
            target_type="alb",
            # An alb target group's port must be the ALB listener's port.
            port=HTTPS_PORT,
            protocol="TCP",
            vpc_id=vpc_id,
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                # Through the ALB's HTTPS listener to a fraud-api task: the whole private path.
                protocol="HTTPS",
                port="traffic-port",
                path=target.health_check_path,
                matcher="200",
                interval=30,
                timeout=10,
                healthy_threshold=3,
                unhealthy_threshold=3,
            ),
        )
        self.attachment = LbTargetGroupAttachment(
            self,
            "alb-target",
            target_group_arn=self.target_group.arn,
            target_id=target.load_balancer_arn,
            port=HTTPS_PORT,
        )
        self.listener = LbListener(
            self,
            "listener",
            load_balancer_arn=self.load_balancer.arn,
            port=HTTPS_PORT,
            protocol="TCP",
            # TCP pass-through: API Gateway's TLS session ends on the ALB's HTTPS listener (TLS 1.2+,
            # the API's certificate); an NLB forwards to an alb target group only from TCP.
            default_action=[LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)],
        )
        self.vpc_link = ApiGatewayVpcLink(
            self,
            "vpc-link",
            name=naming.name("vpc-link"),
            description="API Gateway's only path into the VPC: the internal NLB in front of the internal ALB",
            target_arns=[self.load_balancer.arn],
        )
