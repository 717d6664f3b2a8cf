"""What is deployed, read from the stacks' state objects in S3, and the guards built on it.

A layer counts as deployed when its state holds at least one managed resource. That is what
Terraform itself leaves behind: a destroyed stack keeps its state object, emptied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from lifecycle.locks import StateLock, lock_key
from stacks.layers import LAYER_DEPENDENCIES, Layer, dependants, stack_id, state_key


@dataclass(frozen=True)
class StateSummary:
    serial: int
    lineage: str
    managed_resources: int
    outputs: dict[str, Any] = field(default_factory=dict)
    resources: tuple[dict[str, Any], ...] = ()

    @property
    def deployed(self) -> bool:
        return self.managed_resources > 0

    @classmethod
    def parse(cls, document: dict[str, Any]) -> StateSummary:
        resources = tuple(document.get("resources", []))
        return cls(
            serial=int(document.get("serial", 0)),
            lineage=str(document.get("lineage", "")),
            managed_resources=sum(len(r.get("instances", [])) for r in resources if r.get("mode") == "managed"),
            outputs={name: body.get("value") for name, body in document.get("outputs", {}).items()},
            resources=resources,
        )

    def instances(self, resource_type: str) -> list[dict[str, Any]]:
        """The attributes of every managed instance of `resource_type`."""
        return [
            instance["attributes"]
            for resource in self.resources
            if resource.get("mode") == "managed" and resource.get("type") == resource_type
            for instance in resource.get("instances", [])
        ]


class StateReader(Protocol):
    def read(self, key: str) -> StateSummary | None:
        """The state stored under `key`, or None when there is no state object."""

    def read_lock(self, key: str) -> StateLock | None:
        """The lock held on the state stored under `key`, or None when it is not locked."""


@dataclass
class S3StateReader:
    """Reads state objects straight from the state bucket (boto3; the target's endpoint and credentials)."""

    bucket: str
    client: Any

    def read(self, key: str) -> StateSummary | None:
        body = self._object(key)
        return None if body is None else StateSummary.parse(json.loads(body))

    def read_lock(self, key: str) -> StateLock | None:
        body = self._object(lock_key(key))
        return None if body is None else StateLock.parse(json.loads(body))

    def _object(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (self.client.exceptions.NoSuchKey, self.client.exceptions.NoSuchBucket):
            return None


class GuardRefusal(Exception):
    """An operation refused because of what else is (or is not) deployed; the message says what to do."""


def required_outputs(state: StateSummary | None, stack: str, names: tuple[str, ...], *, missing: str) -> dict[str, Any]:
    """The outputs `names` of a deployed stack; refuses when it is not deployed (`missing` says what
    is therefore missing) or when its state predates one of them."""
    if state is None or not state.deployed:
        raise GuardRefusal(f"{stack} is not deployed: there is {missing}. Deploy the compute layer first.")
    absent = [name for name in names if not state.outputs.get(name)]
    if absent:
        raise GuardRefusal(f"{stack}'s state has no output {', '.join(absent)}: deploy the compute layer again with this version of the stacks.")
    return {name: state.outputs[name] for name in names}


def deployed_layers(reader: StateReader, environment: str, layers: tuple[Layer, ...]) -> dict[Layer, StateSummary]:
    found = {layer: reader.read(state_key(environment, layer)) for layer in layers}
    return {layer: summary for layer, summary in found.items() if summary is not None and summary.deployed}


def check_teardown(reader: StateReader, environment: str, layer: Layer, *, leaving: frozenset[Layer] = frozenset()) -> None:
    """Refuse to destroy `layer` while a layer reading from it is still deployed.

    `leaving` are layers the same command destroys before this one; they are checked when their
    turn comes, not here.
    """
    still = deployed_layers(reader, environment, tuple(d for d in dependants(layer) if d not in leaving))
    if still:
        names = ", ".join(f"{stack_id(other, environment)} ({summary.managed_resources} resources)" for other, summary in still.items())
        first = " ".join(other.value for other in reversed(list(still)))
        raise GuardRefusal(
            f"refusing to destroy {stack_id(layer, environment)}: layers that read from it are still deployed: {names}. "
            f"Destroy them first (destroy {environment} {first}), or tear the whole environment down with `down {environment}`."
        )


def check_deploy(reader: StateReader, environment: str, layer: Layer, *, arriving: frozenset[Layer] = frozenset()) -> None:
    """Refuse to deploy `layer` before the layers it reads from are deployed.

    `arriving` are layers the same command deploys before this one.
    """
    upstream = tuple(u for u in LAYER_DEPENDENCIES[layer] if u not in arriving)
    present = deployed_layers(reader, environment, upstream)
    missing = [u for u in upstream if u not in present]
    if missing:
        names = ", ".join(stack_id(u, environment) for u in missing)
        raise GuardRefusal(
            f"refusing to deploy {stack_id(layer, environment)}: it reads from {names}, which {'is' if len(missing) == 1 else 'are'} not deployed. "
            f"Deploy {'it' if len(missing) == 1 else 'them'} first (deploy {environment} {' '.join(u.value for u in missing)}), "
            f"or plan this layer alone with `plan {environment} {layer.value} --mock-upstream`."
        )
