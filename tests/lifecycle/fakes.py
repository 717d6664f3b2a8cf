"""Stand-ins for the state bucket and for Terraform, so guards and ordering are tested without either."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.states import StateSummary, state_key
from stacks.layers import Layer, stack_id


def state_document(resources: int, serial: int = 1) -> dict:
    """A Terraform state holding `resources` managed instances (and one data source, which never counts)."""
    return {
        "version": 4,
        "serial": serial,
        "lineage": "lineage-1",
        "outputs": {},
        "resources": [
            {"mode": "data", "type": "aws_caller_identity", "name": "caller", "instances": [{"attributes": {}}]},
            *(
                {"mode": "managed", "type": "aws_vpc", "name": f"vpc{index}", "instances": [{"attributes": {"id": f"vpc-{index}"}}]}
                for index in range(resources)
            ),
        ],
    }


@dataclass
class FakeStateReader:
    """State objects by key; a layer missing from `states` has no state object at all."""

    states: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def with_layers(cls, environment: str, **resources_by_layer: int) -> FakeStateReader:
        return cls({state_key(environment, Layer(name)): state_document(count) for name, count in resources_by_layer.items()})

    def read(self, key: str) -> StateSummary | None:
        document = self.states.get(key)
        return None if document is None else StateSummary.parse(document)


@dataclass
class FakeStackDirectory:
    """Records what would have run; `fail` names the stack whose Terraform fails."""

    directory: Path
    calls: list[str]
    reader: FakeStateReader
    environment: str
    fail: str | None = None

    @property
    def name(self) -> str:
        return self.directory.name

    def init(self, *, backend: bool = True) -> None:
        self.calls.append(f"init {self.name}")

    def apply(self) -> None:
        self._run("apply", resources=3)

    def destroy(self) -> None:
        self._run("destroy", resources=0)

    def plan(self, *, lock: bool = True) -> str:
        from lifecycle.terraform import TerraformFailed

        self.calls.append(f"plan {self.name}")
        if self.name == self.fail:
            raise TerraformFailed("plan", self.directory / "log", "Error: Reference to undeclared resource")
        return "Plan: 3 to add, 0 to change, 0 to destroy."

    def _run(self, command: str, resources: int) -> None:
        from lifecycle.terraform import TerraformFailed

        self.calls.append(f"{command} {self.name}")
        if self.name == self.fail:
            raise TerraformFailed(command, self.directory / "log", "Error: creating thing: InvalidParameter")
        layer = Layer(self.name.rsplit("-", 1)[0])
        self.reader.states[state_key(self.environment, layer)] = state_document(resources, serial=2)


def write_aws_synth(outdir: Path, environment: str) -> None:
    """Minimal synthesized stacks for the real-AWS target (no emulator settings)."""
    for layer in Layer:
        directory = outdir / "stacks" / stack_id(layer, environment)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "cdk.tf.json").write_text(json.dumps({"provider": {"aws": [{"region": "us-east-1"}]}}))
