"""VPC endpoints: private paths from the application subnets to AWS APIs, each with a policy
saying what may pass through it (components/network/endpoint_policies.py)."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct

from components.naming import ResourceNamer
from components.network.endpoint_policies import EndpointPolicies
from components.network.security_groups import GatewayPrefixLists

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
        policies: EndpointPolicies,
    ) -> None:
        super().__init__(scope, construct_id)
        self.gateways = {
            service: VpcEndpoint(
                self,
                service,
                vpc_id=vpc_id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=route_table_ids,
                policy=self._policy(service, policies),
                tags={"Name": naming.name("endpoint", service)},
            )
            for service in GATEWAY_ENDPOINT_SERVICES
        }
        self.gateway_prefix_lists = GatewayPrefixLists(
            s3=self.gateways["s3"].prefix_list_id, dynamodb=self.gateways["dynamodb"].prefix_list_id
        )
        self.interfaces = {
            service: VpcEndpoint(
                self,
                service.replace(".", "-"),
                vpc_id=vpc_id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=subnet_ids,
                security_group_ids=[security_group_id],
                policy=self._policy(service, policies),
                tags={"Name": naming.name("endpoint", service)},
            )
            for service in interface_services
        }

    def _policy(self, service: str, policies: EndpointPolicies) -> str:
        document = DataAwsIamPolicyDocument(self, f"{service.replace('.', '-')}-policy", statement=policies.statements(service))
        return document.json
