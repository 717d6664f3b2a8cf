"""One synthesis of every environment, shared by the whole test session.

Loading the AWS provider bindings costs ~13 s per process, so the app is synthesized once and
every infrastructure test reads the result. `terraform validate` of each stack starts in the
background as soon as the synthesis exists, so it overlaps with the other tests.
"""

from __future__ import annotations

import json
import re
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

from config.environments import build_account, build_environments
from config.settings import EnvironmentConfig
from config.targets import DeploymentTarget
from scripts.paths import CACHE_ROOT, REPO_ROOT
from scripts.terraform_cli import init_lock, terraform_env
from stacks.layers import Layer, stack_id
from stacks.platform import EnvironmentStacks


# checkov lives in its own virtualenv (scripts/setup.sh): its pinned dependencies clash with pytest's.
CHECKOV_PYTHON = CACHE_ROOT / "checkov-venv" / "bin" / "python"
# `${type.logical_id.attribute}`, the whole value; a data source's type starts with `data.`.
_REFERENCE = re.compile(r"^\$\{((?:data\.)?[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.(.+)\}$")


def reference(expression: str) -> tuple[str, str, str]:
    """`${aws_x.name.attr}` → ("aws_x", "name", "attr")."""
    match = _REFERENCE.match(expression)
    assert match, f"{expression!r} is not a reference to one resource attribute"
    return match.groups()


def points_at(expression: str, resource_type: str, logical_id: str, attribute: str) -> bool:
    return reference(expression) == (resource_type, logical_id, attribute)


class StackConfig:
    """The blocks of one stack's synthesized JSON (`config`), as every infrastructure test reads them."""

    config: dict[str, Any]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return self.config.get("resource", {}).get(resource_type, {})

    def data_sources(self, data_type: str) -> dict[str, dict[str, Any]]:
        return self.config.get("data", {}).get(data_type, {})

    def all_resources(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for resource_type, instances in self.config.get("resource", {}).items():
            for logical_id, body in instances.items():
                yield resource_type, logical_id, body

    def own_arns(self, resource_type: str, logical_id: str) -> set[str]:
        """How a policy of this stack may name one of its resources: by its `arn` attribute, or a
        queue (whose policy the queue carries, components/compute/queues.py) by the ARN SQS gives it,
        built from its name and this stack's own data sources."""
        arns = {f"${{{resource_type}.{logical_id}.arn}}"}
        if resource_type == "aws_sqs_queue":
            (partition,), (region,), (caller,) = (self.data_sources(kind) for kind in ("aws_partition", "aws_region", "aws_caller_identity"))
            name = self.resources(resource_type)[logical_id]["name"]
            arns.add(
                f"arn:${{data.aws_partition.{partition}.partition}}:sqs:${{data.aws_region.{region}.name}}:${{data.aws_caller_identity.{caller}.account_id}}:{name}"
            )
        return arns


@dataclass
class SynthesizedStack(StackConfig):
    name: str
    directory: Path

    @cached_property
    def config(self) -> dict[str, Any]:
        return json.loads((self.directory / "cdk.tf.json").read_text())

    def only(self, resource_type: str) -> dict[str, Any]:
        instances = self.resources(resource_type)
        assert len(instances) == 1, f"{self.name}: expected one {resource_type}, found {sorted(instances)}"
        return next(iter(instances.values()))


@dataclass
class Synthesis:
    outdir: Path
    environments: dict[str, EnvironmentConfig]
    stacks_by_environment: dict[str, EnvironmentStacks]
    _validations: dict[str, Future] = field(default_factory=dict)
    _security_scan: Future | None = None

    @cached_property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.outdir / "manifest.json").read_text())

    def stack(self, layer: Layer, environment: str) -> SynthesizedStack:
        name = stack_id(layer, environment)
        return SynthesizedStack(name, self.outdir / "stacks" / name)

    def stack_by_name(self, name: str) -> SynthesizedStack:
        return SynthesizedStack(name, self.outdir / "stacks" / name)

    def stacks(self, layer: Layer | None = None) -> list[SynthesizedStack]:
        layers = [layer] if layer else list(Layer)
        return [self.stack(each, environment) for environment in self.environments for each in layers]

    def start_validation(self, executor: ThreadPoolExecutor) -> None:
        for directory in sorted((self.outdir / "stacks").iterdir()):
            self._validations[directory.name] = executor.submit(_terraform_validate, directory)

    def validation(self, stack_name: str) -> subprocess.CompletedProcess:
        return self._validations[stack_name].result(timeout=600)

    def start_security_scan(self, executor: ThreadPoolExecutor) -> None:
        self._security_scan = executor.submit(_checkov_scan, sorted(self.outdir.glob("stacks/*/cdk.tf.json")))

    def security_scan(self) -> dict[str, dict[str, list[dict[str, str]]]]:
        assert self._security_scan is not None, "the security scan was not started"
        return self._security_scan.result(timeout=600)


def synthesize(outdir: Path, target: DeploymentTarget = DeploymentTarget()) -> Synthesis:
    from cdktf import App

    from stacks.platform import add_account_bootstrap, add_environment

    environments = build_environments()
    app = App(outdir=str(outdir))
    add_account_bootstrap(app, build_account(), target)
    stacks = {name: add_environment(app, config, target) for name, config in environments.items()}
    app.synth()
    return Synthesis(outdir=outdir, environments=environments, stacks_by_environment=stacks)


def _checkov_scan(stack_files: list[Path]) -> dict[str, Any]:
    scanner = subprocess.run(
        [str(CHECKOV_PYTHON), str(REPO_ROOT / "scripts" / "checkov_scan.py"), *map(str, stack_files)],
        capture_output=True, text=True, check=False,
    )
    if scanner.returncode != 0:
        raise RuntimeError(f"checkov scan failed: {scanner.stderr[-2000:]}")
    return json.loads(scanner.stdout)


# `terraform init` fills the shared plugin cache, one at a time across processes (init_lock);
# validation itself (the slow part, loading the provider schema) runs in parallel.


def _terraform_validate(directory: Path) -> subprocess.CompletedProcess:
    env = terraform_env()
    with init_lock():
        init = subprocess.run(
            ["terraform", "init", "-backend=false", "-input=false", "-no-color"],
            cwd=directory, env=env, capture_output=True, text=True, check=False,
        )
    if init.returncode != 0:
        return init
    return subprocess.run(["terraform", "validate", "-no-color"], cwd=directory, env=env, capture_output=True, text=True, check=False)
