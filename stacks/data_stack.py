"""The data layer: what the platform must never lose and never leak."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from constructs import Construct

from config.settings import EnvironmentConfig
from config.targets import DeploymentTarget
from stacks.base import LayerStack
from stacks.contracts import DataContract, NetworkContract
from stacks.layers import Layer


class DataStack(LayerStack):
    def __init__(
        self,
        scope: Construct,
        *,
        environment: EnvironmentConfig,
        target: DeploymentTarget,
        network: NetworkContract,
    ) -> None:
        super().__init__(scope, layer=Layer.DATA, environment=environment, target=target)
        subnet_group = DbSubnetGroup(
            self,
            "database-subnets",
            name=self.naming.name("database"),
            subnet_ids=list(network.data_subnet_ids),
            description="Isolated data subnets: no route out of the VPC",
        )
        self.contract = DataContract(database_subnet_group_name=subnet_group.name)
