"""Stand-ins for the state bucket and for Terraform, so guards and ordering are tested without either.

The stand-in Terraform replays event streams recorded from real Terraform against the emulator
(`tests/lifecycle/streams/`, re-recorded by `python -m tests.lifecycle.streams.record`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.locks import StateLock
from lifecycle.states import StateSummary, state_key
from lifecycle.terraform_ui import ResourceTiming, TerraformRun, UiEvent, parse_event
from stacks.layers import Layer, stack_id

STREAMS = Path(__file__).resolve().parent / "streams"


def recorded_events(stream: str) -> list[UiEvent]:
    """The events of a recorded `terraform ... -json` stream."""
    lines = (STREAMS / stream).read_text().splitlines()
    return [event for line in lines if (event := parse_event(line)) is not None]


def replay(stream: str, command: str, observe: Callable[[TerraformRun, ResourceTiming | None], None] | None = None) -> TerraformRun:
    """Feed a recorded stream into a TerraformRun at once, telling `observe` after each event, as StackDirectory does."""
    events = recorded_events(stream)
    run = TerraformRun(command, started_at=events[0].at)
    for event in events:
        finished = run.feed(event)
        if observe is not None:
            observe(run, finished)
    run.ended_at = events[-1].at
    return run


def recorded_lock() -> StateLock:
    """The lock object a real apply held (`<state key>.tflock`), as Terraform wrote it."""
    return StateLock.parse(json.loads((STREAMS / "lock.tflock.json").read_text()))


def state_document(resources: int, serial: int = 1, outputs: dict | None = None) -> dict:
    """A Terraform state holding `resources` managed instances (and one data source, which never counts)."""
    return {
        "version": 4,
        "serial": serial,
        "lineage": "lineage-1",
        "outputs": {name: {"value": value, "type": "string", "sensitive": True} for name, value in (outputs or {}).items()},
        "resources": [
            {"mode": "data", "type": "aws_caller_identity", "name": "caller", "instances": [{"attributes": {}}]},
            *(
                {"mode": "managed", "type": "aws_vpc", "name": f"vpc{index}", "instances": [{"attributes": {"id": f"vpc-{index}"}}]}
                for index in range(resources)
            ),
        ],
    }


# What the recorded saved plans (record.py, `--only saved-plans`) read and change.
RECORDED_PRODUCER_KEY = "recording/plan_producer.tfstate"
RECORDED_READ_OUTPUT = "shared_value"
RECORDED_READ_VALUE, RECORDED_NEW_VALUE = "v1", "v2"


def recorded_plan(stream: str = "saved.plan.json", *, reading: str | None = RECORDED_PRODUCER_KEY) -> dict:
    """`terraform show -json` of a recorded saved plan, its remote-state read pointed at the state key `reading`.

    The consumer's recorded plan creates, updates, replaces and destroys one parameter each and reads
    the producer's `shared_value` ("v1"); `saved.producer.plan.json` is the producer's plan changing
    that output to "v2". With `reading=None` the read is left out (a layer that reads nothing).
    """
    document = json.loads((STREAMS / stream).read_text())
    resources = document.get("prior_state", {}).get("values", {}).get("root_module", {}).get("resources", [])
    for resource in list(resources):
        if resource.get("type") == "terraform_remote_state":
            if reading is None:
                resources.remove(resource)
            else:
                resource["values"]["config"]["key"] = reading
    return document


def without_changes(document: dict) -> dict:
    """The same plan as if nothing differed: every resource and output change a no-op."""
    document = json.loads(json.dumps(document))
    for change in document.get("resource_changes", []):
        change["change"]["actions"] = ["no-op"]
    for change in document.get("output_changes", {}).values():
        change["actions"] = ["no-op"]
    return document


def write_plan_file(path: Path, state: dict | None) -> None:
    """A plan file as Terraform lays it out (a zip); only the prior state in it matters to the lifecycle."""
    import zipfile

    prior = {"version": 4, "serial": state["serial"] if state else 0, "lineage": state["lineage"] if state else "", "resources": []}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("tfplan", b"fake plan")
        archive.writestr("tfstate", json.dumps(prior))


@dataclass
class FakeStateReader:
    """State objects by key; a layer missing from `states` has no state object at all."""

    states: dict[str, dict] = field(default_factory=dict)
    locks: dict[str, StateLock] = field(default_factory=dict)

    @classmethod
    def with_layers(cls, environment: str, **resources_by_layer: int) -> FakeStateReader:
        return cls({state_key(environment, Layer(name)): state_document(count) for name, count in resources_by_layer.items()})

    def read(self, key: str) -> StateSummary | None:
        document = self.states.get(key)
        return None if document is None else StateSummary.parse(document)

    def read_lock(self, key: str) -> StateLock | None:
        return self.locks.get(key)


@dataclass
class FakeStackDirectory:
    """Records what would have run and replays recorded Terraform streams; `fail` names the stack whose Terraform fails."""

    directory: Path
    calls: list[str]
    reader: FakeStateReader
    environment: str
    fail: str | None = None
    observe: Callable[[TerraformRun, ResourceTiming | None], None] | None = None
    # Which recorded stream each command replays.
    streams: dict[str, str] = field(default_factory=lambda: {
        "plan": "plan.jsonl", "apply": "apply.jsonl", "destroy": "destroy.jsonl", "failed apply": "failed.apply.jsonl",
    })
    # Stack -> what `terraform show -json` says of its saved plan (default: recorded_plan()).
    shown: dict[str, dict] = field(default_factory=dict)
    # Stack -> the outputs its state holds once a saved plan of it is applied.
    outputs_after_apply: dict[str, dict] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.directory.name

    def init(self, *, backend: bool = True) -> None:
        self.calls.append(f"init {self.name}")

    def apply(self) -> TerraformRun:
        return self._run("apply", resources=5)

    def destroy(self) -> TerraformRun:
        return self._run("destroy", resources=0)

    def plan(self, *, lock: bool = True, out: Path | None = None) -> TerraformRun:
        from lifecycle.terraform import TerraformFailed

        self.calls.append(f"plan {self.name}" + ("" if lock else " -lock=false"))
        if self.name == self.fail:
            # A plan that fails before Terraform says anything structured: only its text is shown.
            raise TerraformFailed("plan", self.directory / "log", "Error: Reference to undeclared resource")
        if out is not None:
            assert out.is_absolute(), f"terraform runs in {self.directory}: a relative -out={out} would land there"
            write_plan_file(out, self.reader.states.get(state_key(self.environment, self._layer)))
        return replay(self.streams["plan"], "plan", self.observe)

    def show_json(self, plan_file: Path) -> dict:
        self.calls.append(f"show {self.name}")
        return self.shown.get(self.name) or recorded_plan()

    def capture(self, *args: str) -> str:
        """`providers schema -json`: an empty schema (placeholders then default to strings)."""
        return json.dumps({"provider_schemas": {}})

    def apply_plan(self, plan_file: Path, *, planned: dict[str, int] | None = None) -> TerraformRun:
        assert plan_file.is_absolute(), f"terraform runs in {self.directory}: a relative {plan_file} would be looked for there"
        self.calls.append(f"apply-plan {self.name} {plan_file}")
        run = replay(self.streams["apply"], "apply", self.observe)
        key = state_key(self.environment, self._layer)
        before = self.reader.states.get(key)
        self.reader.states[key] = state_document(5, serial=(before["serial"] + 1) if before else 1, outputs=self.outputs_after_apply.get(self.name))
        if before:
            self.reader.states[key]["lineage"] = before["lineage"]
        return run

    @property
    def _layer(self) -> Layer:
        return Layer(self.name.rsplit("-", 1)[0])

    def force_unlock(self, lock_id: str) -> None:
        self.calls.append(f"force-unlock {self.name} {lock_id}")
        layer = Layer(self.name.rsplit("-", 1)[0])
        key = state_key(self.environment, layer)
        if self.reader.locks.get(key) and self.reader.locks[key].id == lock_id:
            del self.reader.locks[key]

    def _run(self, command: str, resources: int) -> TerraformRun:
        from lifecycle.terraform import TerraformFailed

        self.calls.append(f"{command} {self.name}")
        if self.name == self.fail:
            run = replay(self.streams[f"failed {command}"], command, self.observe)
            raise TerraformFailed(command, self.directory / "log", "Error: attaching IAM Policy", run)
        run = replay(self.streams[command], command, self.observe)
        layer = Layer(self.name.rsplit("-", 1)[0])
        self.reader.states[state_key(self.environment, layer)] = state_document(resources, serial=2)
        return run


def write_aws_synth(outdir: Path, environment: str) -> None:
    """Minimal synthesized stacks for the real-AWS target (no emulator settings)."""
    for layer in Layer:
        directory = outdir / "stacks" / stack_id(layer, environment)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "cdk.tf.json").write_text(json.dumps({"provider": {"aws": [{"region": "us-east-1"}]}}))


@dataclass
class FakeTerraform:
    """`terraform` on PATH replaced by tests/lifecycle/fake_terraform.py, replaying recorded streams."""

    workdir: Path
    speed: float = 50.0
    stop_seconds: float = 0.0

    def __post_init__(self) -> None:
        import sys

        self.bin_dir = self.workdir / "bin"
        self.bin_dir.mkdir(parents=True, exist_ok=True)
        shim = self.bin_dir / "terraform"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).with_name("fake_terraform.py")}" "$@"\n')
        shim.chmod(0o755)
        self.config_file = self.workdir / "fake-terraform.json"
        self.ready_file = self.workdir / "ready"
        self.signals_file = self.workdir / "signals"
        self.commands: dict[str, dict] = {}
        self._write()

    def replays(self, command: str, stream: str, exit_code: int = 0) -> None:
        self.commands[command] = {"stream": str(STREAMS / stream), "exit": exit_code}
        self._write()

    def environment(self, base: dict[str, str]) -> dict[str, str]:
        return {**base, "PATH": f"{self.bin_dir}:{base.get('PATH', '')}", "FAKE_TERRAFORM_CONFIG": str(self.config_file)}

    def install_for_the_lifecycle(self, monkeypatch) -> None:
        """The lifecycle's Terraform runs this fake; nothing else does (the session validates stacks with the real one meanwhile)."""
        import lifecycle.operations

        real = lifecycle.operations.terraform_env
        monkeypatch.setattr(lifecycle.operations, "terraform_env", lambda base: self.environment(real(base)))

    def wait_until_waiting_for_interrupt(self, timeout: float = 60) -> None:
        import time

        deadline = time.monotonic() + timeout
        while not self.ready_file.exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the fake terraform never reached its interrupt point")
            time.sleep(0.05)

    def signals(self) -> list[str]:
        return self.signals_file.read_text().split() if self.signals_file.exists() else []

    def _write(self) -> None:
        self.config_file.write_text(json.dumps({
            "commands": self.commands, "speed": self.speed, "stop_seconds": self.stop_seconds,
            "ready_file": str(self.ready_file), "signals_file": str(self.signals_file),
        }))
