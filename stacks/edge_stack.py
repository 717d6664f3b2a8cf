"""The edge layer: the only way in from the internet, through API keys and WAF."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.lb import Lb
from constructs import Construct

from components.naming import LOAD_BALANCER_NAME_LIMIT
from config.settings import EnvironmentConfig
from config.targets import DeploymentTarget
from stacks.base import LayerStack
from stacks.contracts import ComputeContract, DataContract, EdgeContract, NetworkContract
from stacks.layers import Layer


class EdgeStack(LayerStack):
    def __init__(
        self,
        scope: Construct,
        *,
        environment: EnvironmentConfig,
        target: DeploymentTarget,
        network: NetworkContract,
        data: DataContract,
        compute: ComputeContract,
    ) -> None:
        super().__init__(scope, layer=Layer.EDGE, environment=environment, target=target)
        # API Gateway's private integrations reach the VPC through a network load balancer.
        vpc_link_target = Lb(
            self,
            "vpc-link-load-balancer",
            name=self.naming.name("vpclink", max_length=LOAD_BALANCER_NAME_LIMIT),
            load_balancer_type="network",
            internal=True,
            subnets=list(network.application_subnet_ids),
            enable_deletion_protection=False,
        )
        self.contract = EdgeContract(vpc_link_load_balancer_arn=vpc_link_target.arn)
