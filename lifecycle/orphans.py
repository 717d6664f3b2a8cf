"""Orphans: resources of an environment that exist in the account but in no layer's state.

A run killed hard (SIGKILL, a CI runner that vanished) never writes the state of what it created
(docs/lifecycle.md, "When a run dies"). The next apply then fails on what has a fixed name
(AlreadyExists) and silently creates a second copy of what has none (another VPC, NAT gateway,
Elastic IP). `lifecycle orphans <env>` finds them: every resource the environment's synthesized
stacks declare is looked for in the account, by its deterministic name where it has one and by
the environment's tags otherwise (`lifecycle/resource_kinds.py`), and whatever is found that no
layer's state holds is an orphan, listed under the layer whose code declares it.
`lifecycle recover` (`lifecycle/recovery.py`) adopts or deletes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lifecycle.resource_kinds import NAMED_KINDS, TAGGED_KINDS, Account, Declared, LiveResource, Resolver, Scan, kind_of
from lifecycle.states import StateSummary
from stacks.layers import DEPLOY_ORDER, Layer, stack_id, state_key

# What a security-group rule's orphan carries: its group, whose own deletion revokes it.
RULE_TYPES = ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")


def read_configs(outdir: Path, environment: str) -> dict[Layer, dict[str, Any]]:
    """The synthesized stack of every layer of the environment (`cdk.tf.json`)."""
    configs = {}
    for layer in DEPLOY_ORDER:
        config_file = outdir / "stacks" / stack_id(layer, environment) / "cdk.tf.json"
        if not config_file.exists():
            raise FileNotFoundError(f"{config_file} does not exist; synthesize first (drop --skip-synth)")
        configs[layer] = json.loads(config_file.read_text())
    return configs


def declared_resources(layer: Layer, config: dict[str, Any]) -> list[Declared]:
    """What a layer's stack declares, less what is left out (`count = 0`, the emulator's gaps)."""
    return [
        Declared(layer, resource_type, name, body)
        for resource_type, instances in config.get("resource", {}).items()
        for name, body in instances.items()
        if body.get("count") != 0
    ]


def _instances(state: StateSummary | None) -> dict[str, dict[str, Any]]:
    """address -> attributes of every managed resource instance a state holds."""
    if state is None:
        return {}
    return {
        f"{resource['type']}.{resource['name']}": instance.get("attributes", {})
        for resource in state.resources
        if resource.get("mode") == "managed"
        for instance in resource.get("instances", [])
    }


def identities_in_state(states: dict[Layer, StateSummary | None]) -> set[str]:
    """Every identity (the kind's, the `id` and the `arn`) of every resource any layer's state holds."""
    held: set[str] = set()
    for state in states.values():
        for resource in (state.resources if state else ()):
            if resource.get("mode") != "managed":
                continue
            kind = kind_of(resource.get("type", ""))
            for instance in resource.get("instances", []):
                attributes = instance.get("attributes", {})
                candidates = [attributes.get("id"), attributes.get("arn"), kind.state_identity(attributes) if kind else None]
                held.update(str(value) for value in candidates if value)
    return held


def scan_environment(account: Account, configs: dict[Layer, dict[str, Any]], states: dict[Layer, StateSummary | None]) -> tuple[list[LiveResource], Scan]:
    """Everything of the environment the account holds, of every kind its layers declare."""
    outputs = {state_key(account.environment, layer): state.outputs for layer, state in states.items() if state is not None}
    scan = Scan(
        account=account,
        declared=[declared for layer, config in configs.items() for declared in declared_resources(layer, config)],
        resolvers={layer: Resolver(config, account, _instances(states.get(layer)), outputs) for layer, config in configs.items()},
    )
    for layer, resolver in scan.resolvers.items():
        resolver.producers = {state_key(account.environment, producer): scan.resolvers[producer] for producer in scan.resolvers if producer is not layer}
    declared_types = {declared.resource_type for declared in scan.declared}
    live: list[LiveResource] = []
    for kinds in (NAMED_KINDS, TAGGED_KINDS):
        for resource_type, kind in kinds.items():
            if resource_type in declared_types:
                live.extend(kind.find(scan))
    return live, scan


@dataclass
class Orphans:
    environment: str
    resources: list[LiveResource]
    # Declared resources whose identity is only known once Terraform runs, and could not be looked for.
    unchecked: list[Declared] = field(default_factory=list)

    def of(self, layer: Layer | None) -> list[LiveResource]:
        return [resource for resource in self.resources if resource.layer is layer]

    @property
    def layers(self) -> list[Layer | None]:
        present = {resource.layer for resource in self.resources}
        return [layer for layer in (*DEPLOY_ORDER, None) if layer in present]


def find_orphans(account: Account, configs: dict[Layer, dict[str, Any]], states: dict[Layer, StateSummary | None]) -> Orphans:
    live, scan = scan_environment(account, configs, states)
    held = identities_in_state(states)
    orphaned = [resource for resource in live if not resource.identities & held]
    orphaned = _adopt_keys_with_their_aliases(orphaned, scan)
    orphaned = _ambiguous_names_are_not_adopted(orphaned)
    orphaned = _rules_go_with_their_groups(orphaned)
    order = {resource_type: index for index, resource_type in enumerate((*NAMED_KINDS, *TAGGED_KINDS))}
    orphaned.sort(key=lambda resource: (DEPLOY_ORDER.index(resource.layer) if resource.layer else len(DEPLOY_ORDER),
                                        not resource.adoptable, order.get(resource.resource_type, 0), resource.address or "", resource.identity))
    return Orphans(account.environment, orphaned, scan.unchecked)


def _adopt_keys_with_their_aliases(orphaned: list[LiveResource], scan: Scan) -> list[LiveResource]:
    """A KMS key has no name, but the orphaned alias that points at it says which declared key it is."""
    adopted: dict[str, tuple[Layer, str]] = {}
    for alias in (resource for resource in orphaned if resource.resource_type == "aws_kms_alias" and resource.address):
        body = scan.resolvers[alias.layer].declared_body(alias.address) if alias.layer else None
        reference = scan.resolvers[alias.layer].reference(body or {}, "target_key_id") if alias.layer else None
        target = alias.details.get("target_key_id")
        if reference and reference[0].startswith("aws_kms_key.") and target:
            adopted[target] = (alias.layer, reference[0])
    return [
        replace(resource, layer=adopted[resource.identity][0], address=adopted[resource.identity][1], import_id=resource.identity)
        if resource.resource_type == "aws_kms_key" and resource.identity in adopted else resource
        for resource in orphaned
    ]


def _ambiguous_names_are_not_adopted(orphaned: list[LiveResource]) -> list[LiveResource]:
    """Two orphans for one declared resource (a `name_prefix` matched twice): neither can be adopted, both can be deleted."""
    count: dict[str, int] = {}
    for resource in orphaned:
        if resource.adoptable:
            count[resource.address] = count.get(resource.address, 0) + 1
    return [replace(resource, import_id=None) if resource.adoptable and count[resource.address] > 1 else resource for resource in orphaned]


def _rules_go_with_their_groups(orphaned: list[LiveResource]) -> list[LiveResource]:
    groups = {resource.identity for resource in orphaned if resource.resource_type == "aws_security_group"}
    return [resource for resource in orphaned if not (resource.resource_type in RULE_TYPES and resource.details.get("group_id") in groups)]


def describe(resource: LiveResource) -> str:
    return f"{resource.address or resource.resource_type:<60} {resource.label}"
