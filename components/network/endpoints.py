"""VPC endpoints: private paths from the application subnets to AWS APIs."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct

from components.naming import ResourceNamer

# Free, and carry the bulk of the traffic (image layers from S3, every transaction to DynamoDB).
GATEWAY_ENDPOINT_SERVICES = ("s3", "dynamodb")


class VpcEndpoints(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        region: str,
        vpc_id: str,
        route_table_ids: list[str],
        subnet_ids: list[str],
        security_group_id: str,
        interface_services: tuple[str, ...],
    ) -> None:
        super().__init__(scope, construct_id)
        for service in GATEWAY_ENDPOINT_SERVICES:
            VpcEndpoint(
                self,
                service,
                vpc_id=vpc_id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=route_table_ids,
                tags={"Name": naming.name("endpoint", service)},
            )
        for service in interface_services:
            VpcEndpoint(
                self,
                service.replace(".", "-"),
                vpc_id=vpc_id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=subnet_ids,
                security_group_ids=[security_group_id],
                tags={"Name": naming.name("endpoint", service)},
            )
