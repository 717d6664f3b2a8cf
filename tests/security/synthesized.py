"""The synthesized platform as the security tests read it: every stack's JSON once, references followed.

The security tests judge the whole platform at once (a key of the data layer protecting a queue
of the compute layer, a subnet of the network layer under a database of the data layer), so a
reference is resolved through remote state to the producer's resource it names, never matched
by pattern on a logical id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tests.synthesis import StackConfig

ENVIRONMENTS = ("dev", "staging", "prod")
LAYERS = ("network", "data", "compute", "edge", "observability")
BOOTSTRAP = "bootstrap"
STACK_NAMES = [f"{layer}-{environment}" for environment in ENVIRONMENTS for layer in LAYERS] + [BOOTSTRAP]

# `${type.id.attribute}` or `${data.type.id.attribute}`; the attribute may index (`master_user_secret[0].secret_arn`).
_REFERENCE = re.compile(r"^\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_\[\].]+)\}$")
_REMOTE = re.compile(r"^\$\{data\.terraform_remote_state\.([^.}]+)\.outputs\.([^}]+)\}$")
_EMBEDDED = re.compile(r"\$\{[^}]+\}")
_ACCOUNT_ROOT = re.compile(
    r"^arn:\$\{data\.aws_partition\.([^.}]+)\.partition\}:iam::\$\{data\.aws_caller_identity\.([^.}]+)\.account_id\}:root$"
)
_ACCOUNT_ID = re.compile(r"^\$\{data\.aws_caller_identity\.([^.}]+)\.account_id\}$")


@dataclass(frozen=True)
class Address:
    """One attribute of one resource (or data source) of one stack."""

    stack: str
    block: str  # "resource" or "data"
    type: str
    logical_id: str
    attribute: str


@dataclass
class Stack(StackConfig):
    name: str
    config: dict[str, Any]

    @property
    def environment(self) -> str | None:
        return None if self.name == BOOTSTRAP else self.name.rsplit("-", 1)[1]

    @property
    def layer(self) -> str:
        return self.name.rsplit("-", 1)[0] if self.environment else BOOTSTRAP

    def path(self, resource_type: str, logical_id: str, block: str = "resource") -> str:
        """The construct path without the stack, e.g. `keys/logs/key`: what a reader finds in the code."""
        body = self.config[block][resource_type][logical_id]
        return body["//"]["metadata"]["path"].split("/", 1)[1]

    def is_account_root(self, principal: str) -> bool:
        """`arn:<partition>:iam::<this account>:root`, built from this stack's own data sources."""
        match = _ACCOUNT_ROOT.match(principal)
        return bool(match) and match.group(1) in self.data_sources("aws_partition") and match.group(2) in self.data_sources("aws_caller_identity")

    def is_this_account(self, value: str) -> bool:
        match = _ACCOUNT_ID.match(value)
        return bool(match) and match.group(1) in self.data_sources("aws_caller_identity")

    def account_reference(self) -> str:
        (caller,) = self.data_sources("aws_caller_identity")
        return f"${{data.aws_caller_identity.{caller}.account_id}}"


def references_in(value: Any) -> Iterator[str]:
    """Every `${...}` expression anywhere inside a (nested) value."""
    if isinstance(value, str):
        yield from _EMBEDDED.findall(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from references_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from references_in(item)


class Platform:
    """Every synthesized stack, read once per test session."""

    def __init__(self, stacks_dir: Path) -> None:
        self.stacks_dir = stacks_dir

    @cached_property
    def stacks(self) -> dict[str, Stack]:
        return {
            directory.name: Stack(directory.name, json.loads((directory / "cdk.tf.json").read_text()))
            for directory in sorted(self.stacks_dir.iterdir())
            if (directory / "cdk.tf.json").exists()
        }

    def stack(self, name: str) -> Stack:
        return self.stacks[name]

    def environment(self, environment: str) -> list[Stack]:
        return [self.stacks[f"{layer}-{environment}"] for layer in LAYERS]

    def resolve(self, stack: Stack, expression: str) -> Address | None:
        """The resource attribute `expression` is, following a remote-state read to its producer;
        None when the expression is not exactly one reference."""
        remote = _REMOTE.match(expression)
        if remote:
            state_name, output = remote.groups()
            state = stack.data_sources("terraform_remote_state").get(state_name)
            if state is None:
                return None
            environment, layer = state["config"]["key"].removesuffix(".tfstate").split("/")
            producer = self.stacks.get(f"{layer}-{environment}")
            if producer is None or output not in producer.config.get("output", {}):
                return None
            return self.resolve(producer, producer.config["output"][output]["value"])
        local = _REFERENCE.match(expression)
        if not local:
            return None
        is_data, resource_type, logical_id, attribute = local.groups()
        block = "data" if is_data else "resource"
        if logical_id not in stack.config.get(block, {}).get(resource_type, {}):
            return None
        return Address(stack.name, block, resource_type, logical_id, attribute)

    def body(self, address: Address) -> dict[str, Any]:
        return self.stacks[address.stack].config[address.block][address.type][address.logical_id]

    def path(self, address: Address) -> str:
        return self.stacks[address.stack].path(address.type, address.logical_id, address.block)
