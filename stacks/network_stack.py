"""The network layer: VPC, subnets per tier, NAT, endpoints, flow logs and security groups."""

from __future__ import annotations

from constructs import Construct

from components.compute.fraud_api_service import ContainerImage
from components.compute.public_images import XRAY_DAEMON
from components.network.endpoint_policies import EndpointPolicies, EnvironmentResources
from components.network.endpoints import VpcEndpoints
from components.network.flow_log_archive import FlowLogArchive
from components.network.security_groups import TierSecurityGroups
from components.network.tiered_vpc import TieredVpc
from components.storage.audit_log_archive import AuditArchiveLocation
from components.storage.secure_bucket import LifecycleSettings
from config.settings import EnvironmentConfig, NatStrategy
from config.targets import DeploymentTarget
from stacks.base import LayerStack
from stacks.contracts import NetworkContract, SecurityGroupIds
from stacks.layers import Layer

# The flow-log key outlives no data of its own; a week is KMS's shortest safe window.
FLOW_LOG_KEY_DELETION_WINDOW_DAYS = 7


class NetworkStack(LayerStack):
    def __init__(self, scope: Construct, *, environment: EnvironmentConfig, target: DeploymentTarget) -> None:
        super().__init__(scope, layer=Layer.NETWORK, environment=environment, target=target)
        settings = environment.network
        context = self.context

        network = TieredVpc(
            self,
            "vpc",
            naming=self.naming,
            cidr=settings.vpc_cidr,
            availability_zone_ids=settings.availability_zone_ids,
            nat_strategy=settings.nat_strategy,
        )
        security_groups = TierSecurityGroups(
            self,
            "security-groups",
            naming=self.naming,
            vpc_id=network.vpc.id,
            has_interface_endpoints=bool(settings.interface_endpoint_services),
        )
        fraud_api_repository = ContainerImage.resolve(environment.compute.fraud_api_image, context).ecr_repository_arn
        endpoints = VpcEndpoints(
            self,
            "endpoints",
            naming=self.naming,
            region=context.region,
            vpc_id=network.vpc.id,
            route_table_ids=[table.id for table in network.application_route_tables],
            subnet_ids=[subnet.id for subnet in network.application_subnets],
            security_group_id=security_groups.endpoints.id,
            interface_services=settings.interface_endpoint_services,
            policies=EndpointPolicies(
                context,
                EnvironmentResources(
                    naming=self.naming,
                    image_repository_arns=[fraud_api_repository] if fraud_api_repository else [],
                    cached_repository_arns=[XRAY_DAEMON.cached_repository_arn(context)],
                ),
            ),
        )
        security_groups.allow_aws_api_egress(
            through_nat=settings.nat_strategy is not NatStrategy.NONE, gateways=endpoints.gateway_prefix_lists
        )
        FlowLogArchive(
            self,
            "flow-logs",
            naming=self.naming,
            context=context,
            vpc_id=network.vpc.id,
            lifecycle=LifecycleSettings(
                transition_to_infrequent_access_days=settings.flow_log_transition_to_ia_days,
                expiration_days=settings.flow_log_expiration_days,
            ),
            key_deletion_window_days=FLOW_LOG_KEY_DELETION_WINDOW_DAYS,
            account_archive=(
                AuditArchiveLocation.of(project=environment.project, context=context).flow_logs(environment.name)
                if settings.flow_logs_to_account_archive
                else None
            ),
        )

        self.contract = NetworkContract(
            vpc_id=network.vpc.id,
            vpc_cidr=network.vpc.cidr_block,
            application_subnet_ids=tuple(subnet.id for subnet in network.application_subnets),
            data_subnet_ids=tuple(subnet.id for subnet in network.data_subnets),
            nat_gateway_ids=tuple(gateway.id for gateway in network.nat_gateways),
            security_group_ids=SecurityGroupIds(
                vpc_link_load_balancer=security_groups.vpc_link.id,
                load_balancer=security_groups.load_balancer.id,
                application=security_groups.application.id,
                lambda_functions=security_groups.lambda_functions.id,
                database=security_groups.database.id,
                schema_migration=security_groups.migration.id,
            ),
        )
        self.output("vpc_id", network.vpc.id, "The environment's VPC")
