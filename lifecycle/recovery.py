"""`orphans` and `recover`: what a killed run left in the account, and turning it back into a deployable layer.

`recover <env> <layer>` takes the layer's orphans (`lifecycle/orphans.py`):

- those whose identity is deterministic become Terraform `import` blocks in `imports.tf.json`
  beside the synthesized stack's `cdk.tf.json`; Terraform reads every `*.tf.json` of the
  directory, so the next apply of the layer (`deploy`, `up`) adopts them instead of failing with
  AlreadyExists. The synthesized file itself is never touched, and a new synth leaves the file in
  place. Once the layer's state holds an address, its import block has done its work and is
  removed (`retire_imports`, after every deploy and apply): a block left behind would try to import a
  resource a later teardown deleted.
- the anonymous ones (a VPC, subnets, a NAT gateway, an Elastic IP, ...) cannot be adopted: the
  next apply would create others beside them. Each is listed with its delete command, in the order
  they can go; `--delete-anonymous` runs them, in prod only with the confirmation a prod teardown
  asks for (`--confirm prod`, or the name typed at a terminal).

Both refuse to work on a layer whose state is locked: a run holding the lock may be creating what
only looks orphaned. Unlock it first if that run is dead (`lifecycle unlock`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lifecycle.orphans import Orphans, describe, find_orphans, read_configs
from lifecycle.resource_kinds import Account, DeletionStep, LiveResource
from lifecycle.states import GuardRefusal, StateSummary, state_key
from stacks.layers import DEPLOY_ORDER, Layer

IMPORTS_FILE = "imports.tf.json"
_IMPORTS_NOTE = (
    "Written by `scripts/lifecycle.sh recover`: orphans of a killed run, adopted by the next apply of this stack; "
    "each block is removed once the state holds its address (docs/lifecycle.md, \"When a run dies\")."
)


class OrphansFound(Exception):
    """`orphans` found some; the message counts them."""


class RecoveryFailed(Exception):
    """A deletion failed; the message names what was left."""


def account_for(lifecycle: Any, clients: Any) -> Account:
    """Who the credentials are and how the aws CLI reaches the same place, for the lookups and the printed commands."""
    identity = clients.client("sts").get_caller_identity()
    partition = identity["Arn"].split(":")[1] if identity.get("Arn", "").startswith("arn:") else "aws"
    options = f" --region {lifecycle.environment.region}"
    if lifecycle.target.is_emulator:
        options += f" --endpoint-url {lifecycle.target.emulator_endpoint}"
    return Account(
        clients=clients, account_id=identity["Account"], region=lifecycle.environment.region, partition=partition,
        environment=lifecycle.environment.name, project=lifecycle.environment.project, cli_options=options,
    )


def environment_orphans(lifecycle: Any, clients: Any) -> Orphans:
    states = {layer: lifecycle.state(layer) for layer in DEPLOY_ORDER}
    return find_orphans(account_for(lifecycle, clients), read_configs(lifecycle.outdir, lifecycle.environment.name), states)


# --- orphans <env> -----------------------------------------------------------------------------------


def report_orphans(lifecycle: Any, clients: Any) -> Orphans:
    """Print every orphan of the environment under its layer, with what `recover` would do with it; OrphansFound if any."""
    progress, name = lifecycle.progress, lifecycle.environment.name
    locks = lifecycle.locks()
    orphans = environment_orphans(lifecycle, clients)
    progress.section(f"orphans of {name} on {_where(lifecycle)}: what its layers declare, found in the account, in no layer's state")
    for layer in DEPLOY_ORDER:
        found = orphans.of(layer)
        stack = lifecycle.stack(layer)
        if not found:
            progress.note(f"{stack}: none")
            continue
        adoptable = sum(resource.adoptable for resource in found)
        progress.note(f"{stack}: {len(found)} orphan{'s' if len(found) != 1 else ''}, {adoptable} to adopt, {len(found) - adoptable} to delete")
        for resource in found:
            progress.note(f"  {'adopt ' if resource.adoptable else 'delete'} {describe(resource)}")
        progress.note(f"  recover: {_command(lifecycle, 'recover', layer)}")
    for resource in orphans.of(None):
        progress.note(f"no Layer tag: delete {describe(resource)}")
    for layer, lock in locks.items():
        if lock is not None and orphans.of(layer):
            progress.note(f"{lifecycle.stack(layer)} is locked ({lock.describe(datetime.now(UTC))}): while the run that holds it is alive, "
                          "what it is creating looks orphaned")
    if orphans.unchecked:
        names = ", ".join(f"{declared.address} ({lifecycle.stack(declared.layer)})" for declared in orphans.unchecked)
        progress.note(f"not looked for, their names being known only once Terraform runs: {names}")
    if orphans.resources:
        raise OrphansFound(f"{len(orphans.resources)} orphans of {name} in no layer's state; see above")
    progress.note(f"no orphans: everything of {name} in the account is in its layers' states")
    return orphans


# --- recover <env> <layer> ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Recovery:
    adopted: list[LiveResource]
    deleted: list[LiveResource]
    left: list[LiveResource]  # anonymous, not deleted (no --delete-anonymous)
    imports_file: Path | None


def recover(lifecycle: Any, clients: Any, layer: Layer, *, delete_anonymous: bool,
            confirm: Callable[[list[LiveResource]], None] = lambda resources: None) -> Recovery:
    """Import blocks for the layer's adoptable orphans; the delete commands of the rest, run with `delete_anonymous`.

    `confirm` is called with what is about to be deleted, once it is listed; it raises GuardRefusal to stop."""
    progress, stack = lifecycle.progress, lifecycle.stack(layer)
    lock = lifecycle.reader.read_lock(state_key(lifecycle.environment.name, layer))
    if lock is not None:
        raise GuardRefusal(
            f"refusing to recover {stack} while its state is locked ({lock.describe(datetime.now(UTC))}): the run holding the lock may "
            f"still be creating what looks orphaned. If that run is dead, unlock it first: "
            f"{_command(lifecycle, 'unlock', layer)} --lock-id {lock.id} --force"
        )
    orphans = environment_orphans(lifecycle, clients).of(layer)
    progress.section(f"recover {stack} on {_where(lifecycle)}: {len(orphans)} orphan{'s' if len(orphans) != 1 else ''}")
    adoptable = [resource for resource in orphans if resource.adoptable]
    anonymous = [resource for resource in orphans if not resource.adoptable]
    stack_dir = lifecycle.outdir / "stacks" / stack
    written = None
    if adoptable:
        written = write_imports(stack_dir, adoptable)
        progress.note(f"adopted by the next apply of {stack} (import blocks in {written}):")
        for resource in adoptable:
            progress.note(f"  {resource.address} <- {resource.import_id}")
    steps = deletion_steps(anonymous)
    if anonymous:
        progress.note(f"{len(anonymous)} anonymous (listed by `orphans`): the next apply would create others beside them; "
                      f"{'deleting' if delete_anonymous else 'delete'} them, in this order:")
        for step, _ in steps:
            progress.note(f"  $ {step.command}")
    deleted: list[LiveResource] = []
    if anonymous and delete_anonymous:
        confirm(anonymous)
        deleted = _delete(progress, steps)
    elif anonymous:
        progress.note(f"  or: {_command(lifecycle, 'recover', layer)} --delete-anonymous")
    if not orphans:
        progress.note(f"{stack}: no orphans, nothing to recover")
    elif adoptable or deleted:
        progress.note(f"next: {_command(lifecycle, 'deploy', layer)}")
    return Recovery(adoptable, deleted, [resource for resource in anonymous if resource not in deleted], written)


def deletion_steps(resources: list[LiveResource]) -> list[tuple[DeletionStep, LiveResource]]:
    """Every deletion step of the resources, in the order they can run (what holds on to what goes first)."""
    steps = [(step, resource) for resource in resources for step in resource.deletion]
    return sorted(steps, key=lambda pair: pair[0].order)


def _delete(progress: Any, steps: list[tuple[DeletionStep, LiveResource]]) -> list[LiveResource]:
    """Run every step; one that fails is reported and the rest still tried (most do not depend on it)."""
    from botocore.exceptions import BotoCoreError, ClientError

    failed: dict[LiveResource, str] = {}
    for step, resource in steps:
        if resource in failed:
            continue
        try:
            step.run()
        except (ClientError, BotoCoreError) as error:
            failed[resource] = f"{step.command}: {error}"
            progress.note(f"  failed: {failed[resource]}")
            continue
        if step is resource.deletion[-1]:
            progress.note(f"  deleted {describe(resource)}")
    if failed:
        raise RecoveryFailed(f"{len(failed)} anonymous orphans could not be deleted: " + "; ".join(failed.values()))
    return list(dict.fromkeys(resource for _, resource in steps))


def _where(lifecycle: Any) -> str:
    return f"the emulator at {lifecycle.target.emulator_endpoint}" if lifecycle.target.is_emulator else "AWS"


def _command(lifecycle: Any, command: str, layer: Layer) -> str:
    return f"scripts/lifecycle.sh {command} {lifecycle.environment.name} {layer.value}{''.join(' ' + option for option in lifecycle.cli_options)}"


# --- the import blocks -------------------------------------------------------------------------------


def pending_imports(stack_dir: Path) -> dict[str, str]:
    """address -> import id of every import block waiting in the stack directory."""
    imports_file = stack_dir / IMPORTS_FILE
    if not imports_file.exists():
        return {}
    return {block["to"]: block["id"] for block in json.loads(imports_file.read_text()).get("import", [])}


def write_imports(stack_dir: Path, resources: list[LiveResource]) -> Path:
    """Add import blocks for `resources` to the stack's imports file (those already there stay)."""
    blocks = {**pending_imports(stack_dir), **{resource.address: resource.import_id for resource in resources}}
    return _write(stack_dir, blocks)


def retire_imports(stack_dir: Path, state: StateSummary | None) -> list[str]:
    """Remove the import blocks whose address the state now holds; the file goes with the last one. Returns those addresses."""
    pending = pending_imports(stack_dir)
    held = {f"{resource['type']}.{resource['name']}" for resource in (state.resources if state else ())
            if resource.get("mode") == "managed" and resource.get("instances")}
    adopted = [address for address in pending if address in held]
    if adopted:
        _write(stack_dir, {address: identity for address, identity in pending.items() if address not in held})
    return adopted


def _write(stack_dir: Path, blocks: dict[str, str]) -> Path:
    imports_file = stack_dir / IMPORTS_FILE
    if not blocks:
        imports_file.unlink(missing_ok=True)
        return imports_file
    document = {"//": _IMPORTS_NOTE, "import": [{"to": address, "id": identity} for address, identity in sorted(blocks.items())]}
    imports_file.write_text(json.dumps(document, indent=2) + "\n")
    return imports_file


@contextmanager
def adopting_orphans(lifecycle: Any, layers: list[Layer], *, announce: bool = True) -> Iterator[None]:
    """Around a deploy or an apply of `layers`: say which adopt orphans (the import blocks `recover` wrote),
    and afterwards, whatever the outcome, drop the blocks whose resources the layers' states now hold.

    `announce=False` where the blocks were read earlier (a saved plan holds its imports already)."""
    for layer in layers if announce else ():
        pending = pending_imports(lifecycle.outdir / "stacks" / lifecycle.stack(layer))
        if pending:
            lifecycle.progress.note(f"{lifecycle.stack(layer)}: this apply adopts {len(pending)} orphan{'s' if len(pending) != 1 else ''} "
                                    f"({IMPORTS_FILE}, written by recover)")
    try:
        yield
    finally:
        for layer in layers:
            stack_dir = lifecycle.outdir / "stacks" / lifecycle.stack(layer)
            if not (stack_dir / IMPORTS_FILE).exists():
                continue
            adopted = retire_imports(stack_dir, lifecycle.state(layer))
            if adopted:
                left = len(pending_imports(stack_dir))
                lifecycle.progress.note(f"{lifecycle.stack(layer)}: adopted {len(adopted)} orphan{'s' if len(adopted) != 1 else ''}"
                                        f"{f'; {left} import blocks still wait in {IMPORTS_FILE}' if left else f', {IMPORTS_FILE} removed'}")
