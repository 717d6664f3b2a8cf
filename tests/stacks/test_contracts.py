"""The contracts carry what consumers read and nothing more; every user-facing output says what it is."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import stacks.contracts as contracts
from scripts.paths import REPO_ROOT
from stacks.layers import Layer

OUTPUT_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


def _attributes_read_by_the_stacks() -> set[str]:
    read: set[str] = set()
    for path in (REPO_ROOT / "stacks").glob("*.py"):
        if path.name == "contracts.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                read.add(node.attr)
    return read


def test_every_contract_field_has_a_reader():
    read = _attributes_read_by_the_stacks()
    contract_types = [value for value in vars(contracts).values() if dataclasses.is_dataclass(value) and value.__module__ == contracts.__name__]
    unread = [f"{kind.__name__}.{field.name}" for kind in contract_types for field in dataclasses.fields(kind) if field.name not in read]
    assert not unread, f"no consumer reads {unread}: drop them from stacks/contracts.py"


def test_user_facing_outputs_are_named_described_and_not_repeated(synthesis):
    for environment in synthesis.environments:
        seen: dict[str, str] = {}
        for layer in Layer:
            stack = synthesis.stack(layer, environment)
            for name, body in stack.config.get("output", {}).items():
                if name.startswith("cross-stack-output-"):
                    continue
                assert OUTPUT_NAME.match(name), f"{stack.name}: output {name} is not {{thing}}_{{attribute}}"
                assert body.get("description", "").strip(), f"{stack.name}: output {name} has no description"
                assert name not in seen, f"output {name} is in both {seen.get(name)} and {stack.name}"
                seen[name] = stack.name


def test_the_data_layer_tells_users_where_its_data_lives_but_never_a_secret_value(synthesis):
    outputs = synthesis.stack(Layer.DATA, "prod").config["output"]
    assert {"aurora_endpoint", "aurora_reader_endpoint", "transactions_table_name", "aurora_master_secret_arn", "api_config_secret_arn"} <= set(outputs)
    assert outputs["aurora_endpoint"]["value"].endswith(".endpoint}")
    assert outputs["aurora_master_secret_arn"]["value"].endswith("master_user_secret[0].secret_arn}")
    for name, body in outputs.items():
        assert "secret_string" not in str(body["value"]) and "password" not in str(body["value"]), name
