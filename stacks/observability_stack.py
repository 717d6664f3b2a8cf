"""The observability layer: dashboards, alarms and tracing over everything below it."""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from constructs import Construct

from config.settings import EnvironmentConfig
from config.targets import DeploymentTarget
from stacks.base import LayerStack
from stacks.contracts import ComputeContract, DataContract, EdgeContract, NetworkContract
from stacks.layers import Layer


class ObservabilityStack(LayerStack):
    def __init__(
        self,
        scope: Construct,
        *,
        environment: EnvironmentConfig,
        target: DeploymentTarget,
        network: NetworkContract,
        data: DataContract,
        compute: ComputeContract,
        edge: EdgeContract,
    ) -> None:
        super().__init__(scope, layer=Layer.OBSERVABILITY, environment=environment, target=target)
        nat_widget = {
            "type": "metric",
            "width": 12,
            "height": 6,
            "properties": {
                "title": "NAT gateway errors",
                "region": environment.region,
                "stat": "Sum",
                "period": 300,
                "metrics": [
                    ["AWS/NATGateway", "ErrorPortAllocation", "NatGatewayId", nat_id] for nat_id in network.nat_gateway_ids
                ],
            },
        }
        CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=self.naming.name("dashboard"),
            dashboard_body=json.dumps({"widgets": [nat_widget]}),
        )
