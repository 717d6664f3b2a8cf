"""One environment of the platform: five layer stacks wired through their contracts."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from config.settings import AccountSettings, EnvironmentConfig
from config.targets import DeploymentTarget
from stacks.base import LayerStack
from stacks.bootstrap_stack import AccountBootstrapStack
from stacks.compute_stack import ComputeStack
from stacks.contracts import ComputeUpstream, DataUpstream, EdgeUpstream, ObservabilityUpstream
from stacks.data_stack import DataStack
from stacks.edge_stack import EdgeStack
from stacks.layers import LAYER_DEPENDENCIES, Layer
from stacks.network_stack import NetworkStack
from stacks.observability_stack import ObservabilityStack


@dataclass(frozen=True)
class EnvironmentStacks:
    network: NetworkStack
    data: DataStack
    compute: ComputeStack
    edge: EdgeStack
    observability: ObservabilityStack

    def by_layer(self) -> dict[Layer, LayerStack]:
        return {layer: getattr(self, layer.value) for layer in Layer}


def add_account_bootstrap(scope: Construct, account: AccountSettings, target: DeploymentTarget) -> AccountBootstrapStack:
    """The bootstrap stack: what the account's environments share, step 0 of a deploy."""
    return AccountBootstrapStack(scope, account=account, target=target)


def add_environment(scope: Construct, environment: EnvironmentConfig, target: DeploymentTarget) -> EnvironmentStacks:
    """Add the five stacks of `environment` to the app, each reading only its upstream contracts."""
    network = NetworkStack(scope, environment=environment, target=target)
    data = DataStack(scope, environment=environment, target=target, upstream=DataUpstream(network.contract))
    compute = ComputeStack(
        scope, environment=environment, target=target, upstream=ComputeUpstream(network.contract, data.contract)
    )
    edge = EdgeStack(
        scope, environment=environment, target=target, upstream=EdgeUpstream(network.contract, data.contract, compute.contract)
    )
    observability = ObservabilityStack(
        scope,
        environment=environment,
        target=target,
        upstream=ObservabilityUpstream(network.contract, data.contract, compute.contract, edge.contract),
    )
    stacks = EnvironmentStacks(network, data, compute, edge, observability)

    # Declared, not only inferred from references: a layer that stops reading a producer
    # still deploys after it, and the lifecycle scripts and tests share one DAG.
    by_layer = stacks.by_layer()
    for layer, upstream in LAYER_DEPENDENCIES.items():
        for producer in upstream:
            by_layer[layer].add_dependency(by_layer[producer])
    return stacks
