"""The API under its own name: a REGIONAL custom domain, its base path mapping and the alias record."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.api_gateway_base_path_mapping import ApiGatewayBasePathMapping
from cdktf_cdktf_provider_aws.api_gateway_domain_name import (
    ApiGatewayDomainName,
    ApiGatewayDomainNameEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from constructs import Construct

# TLS 1.2 minimum, as on the ALB (PCI DSS: strong cryptography).
SECURITY_POLICY = "TLS_1_2"


class ApiCustomDomain(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str,
        certificate_arn: str,
        hosted_zone_name: str,
        rest_api_id: str,
        stage_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.domain = ApiGatewayDomainName(
            self,
            "domain",
            domain_name=domain_name,
            # The compute layer's certificate: `domain_name` and `*.<domain_name>`, already issued.
            regional_certificate_arn=certificate_arn,
            endpoint_configuration=ApiGatewayDomainNameEndpointConfiguration(types=["REGIONAL"]),
            security_policy=SECURITY_POLICY,
        )
        # The whole stage at the root: https://<domain_name>/transactions, /api/...
        ApiGatewayBasePathMapping(
            self, "mapping", api_id=rest_api_id, stage_name=stage_name, domain_name=self.domain.domain_name
        )
        zone = DataAwsRoute53Zone(self, "zone", name=hosted_zone_name, private_zone=False)
        Route53Record(
            self,
            "alias",
            zone_id=zone.zone_id,
            name=self.domain.domain_name,
            type="A",
            alias=Route53RecordAlias(
                name=self.domain.regional_domain_name,
                zone_id=self.domain.regional_zone_id,
                evaluate_target_health=False,
            ),
        )
        self.url = f"https://{domain_name}"
