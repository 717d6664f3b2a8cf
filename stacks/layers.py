"""The five layers of an environment and the order they depend on each other.

This is the single source of the layer DAG: `stacks/platform.py` wires stack dependencies from
it, the lifecycle commands deploy in its order and tear down in reverse, and the tests check that
the synthesized manifest says exactly this. It imports nothing of cdktf, so the lifecycle can
use it without loading the provider bindings.
"""

from __future__ import annotations

from enum import Enum


class Layer(str, Enum):
    NETWORK = "network"
    DATA = "data"
    COMPUTE = "compute"
    EDGE = "edge"
    OBSERVABILITY = "observability"


# Each layer and the layers whose exports it reads; only upstream layers may appear.
LAYER_DEPENDENCIES: dict[Layer, tuple[Layer, ...]] = {
    Layer.NETWORK: (),
    Layer.DATA: (Layer.NETWORK,),
    Layer.COMPUTE: (Layer.NETWORK, Layer.DATA),
    Layer.EDGE: (Layer.NETWORK, Layer.DATA, Layer.COMPUTE),
    Layer.OBSERVABILITY: (Layer.NETWORK, Layer.DATA, Layer.COMPUTE, Layer.EDGE),
}

# Deploy order; teardown walks it backwards.
DEPLOY_ORDER: tuple[Layer, ...] = tuple(LAYER_DEPENDENCIES)


def stack_id(layer: Layer, environment: str) -> str:
    """The cdktf stack name, e.g. `compute-staging`: what `cdktf deploy` takes."""
    return f"{layer.value}-{environment}"


def state_key(environment: str, layer: Layer) -> str:
    """Where a layer keeps its state inside the state bucket, e.g. `staging/compute.tfstate`."""
    return f"{environment}/{layer.value}.tfstate"


def dependants(layer: Layer) -> tuple[Layer, ...]:
    """Layers that read from `layer` and so must be gone before it is destroyed."""
    return tuple(other for other, upstream in LAYER_DEPENDENCIES.items() if layer in upstream)
