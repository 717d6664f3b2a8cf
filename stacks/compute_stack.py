"""The compute layer: the fraud-api service and the transaction pipeline's functions."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from cdktf_cdktf_provider_aws.lb import Lb
from constructs import Construct

from components.naming import LOAD_BALANCER_NAME_LIMIT
from config.settings import EnvironmentConfig
from config.targets import DeploymentTarget
from stacks.base import LayerStack
from stacks.contracts import ComputeContract, DataContract, NetworkContract
from stacks.layers import Layer


class ComputeStack(LayerStack):
    def __init__(
        self,
        scope: Construct,
        *,
        environment: EnvironmentConfig,
        target: DeploymentTarget,
        network: NetworkContract,
        data: DataContract,
    ) -> None:
        super().__init__(scope, layer=Layer.COMPUTE, environment=environment, target=target)
        cluster = EcsCluster(
            self,
            "cluster",
            name=self.naming.name("cluster"),
            setting=[EcsClusterSetting(name="containerInsights", value="enabled")],
        )
        load_balancer = Lb(
            self,
            "load-balancer",
            name=self.naming.name("alb", max_length=LOAD_BALANCER_NAME_LIMIT),
            load_balancer_type="application",
            internal=True,
            subnets=list(network.application_subnet_ids),
            security_groups=[network.security_group_ids.load_balancer],
            drop_invalid_header_fields=True,
            enable_deletion_protection=False,
        )
        self.contract = ComputeContract(cluster_name=cluster.name, load_balancer_arn=load_balancer.arn)
