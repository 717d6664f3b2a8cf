"""Deploy, tear down, plan and inspect one environment, stack by stack, in the order of the layer DAG."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from config.settings import EnvironmentConfig
from config.targets import DeploymentTarget
from lifecycle.changes import ResourceChange, StackPlan, changed_outputs, drifted_resources, planned_changes
from lifecycle.mock_upstream import (
    data_source_attributes,
    mock_data_sources_reading,
    mock_upstream_defaults,
    prepare_mock_plan_directory,
    read_absent_states_as_empty,
    schema_lookup,
)
from lifecycle.interrupts import Interrupted, TerraformProcesses
from lifecycle.locks import STALE_AFTER, StateLock
from lifecycle.prerequisites import ensure_prerequisites
from lifecycle.progress import Observer, Progress
from lifecycle.states import (
    GuardRefusal,
    StateReader,
    StateSummary,
    check_deploy,
    check_teardown,
    state_key,
)
from lifecycle.synth import check_synth_matches
from lifecycle.terraform import LOCK_TIMEOUT, StackDirectory, TerraformFailed, TerraformInterrupted
from lifecycle.terraform_ui import TerraformRun
from scripts.terraform_cli import terraform_env
from stacks.layers import DEPLOY_ORDER, Layer, stack_id

BOOTSTRAP_STACK = "bootstrap"
INIT_WORKERS = 1
# Plans only read state, so they run side by side; more than the machine's two cores only contend.
PLAN_WORKERS = 2
EMPTY_UPSTREAM_STATE = "empty-upstream.tfstate"


class StackFailed(Exception):
    """A stack failed; the message names it. Later stacks were not attempted."""

    def __init__(self, message: str, plans: dict[str, StackPlan] | None = None) -> None:
        super().__init__(message)
        # Plans run side by side: those that succeeded beside the failed one.
        self.plans = plans or {}


@dataclass
class Lifecycle:
    target: DeploymentTarget
    environment: EnvironmentConfig
    outdir: Path
    workdir: Path
    reader: StateReader
    progress: Progress = field(default_factory=Progress)
    verbose: bool = False
    base_env: dict[str, str] = field(default_factory=dict)
    # The emulator's bootstrap state lives with the emulator; on AWS, where the stack says.
    bootstrap_state: Path | None = None
    # How the command line names this target and workdir, for the commands the lifecycle prints.
    cli_options: tuple[str, ...] = ()
    processes: TerraformProcesses = field(default_factory=TerraformProcesses)

    def __post_init__(self) -> None:
        self.processes.notify = self.progress.note

    # --- the environment -------------------------------------------------------------------

    def deploy(self, layers: list[Layer]) -> None:
        ordered = [layer for layer in DEPLOY_ORDER if layer in layers]
        stacks = [self.stack(layer) for layer in ordered]
        check_synth_matches(self.target, self.outdir, stacks)
        # Refuse before touching anything: every layer's producers are deployed or come earlier in this run.
        for index, layer in enumerate(ordered):
            check_deploy(self.reader, self.environment.name, layer, arriving=frozenset(ordered[:index]))
        self.progress.section(f"deploy {self.environment.name} on {self._where()}: {' -> '.join(stacks)}")
        with self.processes.forwarding_signals():
            inits = self._init_all([self.outdir / "stacks" / stack for stack in stacks])
            # A layer's refresh runs beside the next layer's apply, which only reads its outputs.
            refresher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="terraform-refresh")
            refreshes: list[Future] = []
            try:
                for index, layer in enumerate(ordered):
                    _, applied = self._step(layer, "deploy", index, ordered, lambda directory: (inits[directory.directory].result(), directory.apply()))
                    if any(applied.changes.values()):
                        refreshes.append(refresher.submit(self._refresh, layer))
            finally:
                refresher.shutdown(wait=True)
        if self.processes.interrupted:
            raise Interrupted(f"deploy interrupted by {self.processes.signal_name}")
        failed = [name for future in refreshes if (name := future.result()) is not None]
        if failed:
            raise StackFailed(f"refreshing the state of {', '.join(failed)} after its apply failed (what it deployed stands); see {self.workdir / 'logs'}")

    def _refresh(self, layer: Layer) -> str | None:
        """Write into the layer's state what AWS holds now that its apply is done; the stack's name if that failed.

        An apply records each resource as it was when created or updated, before the resources
        created after it changed it (rules added to a security group, a policy attached to a queue)
        and with unset values as null where AWS reads back empty ones. Refreshed once here, the
        state is what a later `drift` compares AWS with: a difference is then a change made outside
        Terraform, not a leftover of the apply (docs/lifecycle.md, "Drift")."""
        name = self.stack(layer)
        if self.processes.interrupted:
            self.progress.skipped([name], "refresh", "interrupted")
            return None
        self.progress.start(name, "refresh")
        try:
            self._directory(self.outdir / "stacks" / name, observe=self.progress.watch(name)).refresh()
        except (TerraformInterrupted, Interrupted):
            self.progress.interrupted(name, "refresh")
            return None
        except TerraformFailed as failure:
            self._report_failure(name, "refresh", "", failure, layer)
            return name
        self.progress.done(name, "refresh", detail="the state holds what AWS reports after the apply")
        return None

    def destroy(self, layers: list[Layer]) -> None:
        ordered = [layer for layer in reversed(DEPLOY_ORDER) if layer in layers]
        stacks = [self.stack(layer) for layer in ordered]
        check_synth_matches(self.target, self.outdir, stacks)
        for index, layer in enumerate(ordered):
            check_teardown(self.reader, self.environment.name, layer, leaving=frozenset(ordered[:index]))
        self.progress.section(f"destroy {self.environment.name} on {self._where()}: {' -> '.join(stacks)}")
        deployed = [layer for layer in ordered if (state := self.state(layer)) is not None and state.deployed]
        with self.processes.forwarding_signals():
            inits = self._init_all([self.outdir / "stacks" / self.stack(layer) for layer in deployed])
            for index, layer in enumerate(ordered):
                if layer not in deployed:
                    self.progress.note(f"{self.stack(layer)}: nothing deployed, skipped")
                    continue
                # Checked again right before: another run may have deployed a dependant meanwhile.
                check_teardown(self.reader, self.environment.name, layer, leaving=frozenset(ordered[:index]))
                self._step(layer, "destroy", index, ordered, lambda directory: (inits[directory.directory].result(), directory.destroy()))

    def plan(self, layers: list[Layer], *, mock_upstream: bool, refresh_only: bool = False) -> dict[str, StackPlan]:
        """Plan every given layer; plans only read, so they run side by side and every failure is reported.

        Returns each stack's plan with what it changes, which is also printed per layer. With
        `refresh_only`, what changed outside Terraform instead, without taking the state lock
        (`drift` runs with a role that can only read)."""
        ordered = [layer for layer in DEPLOY_ORDER if layer in layers]
        stacks = [self.stack(layer) for layer in ordered]
        check_synth_matches(self.target, self.outdir, stacks)
        mode = " with mocked upstream outputs" if mock_upstream else " in refresh-only mode" if refresh_only else ""
        self.progress.section(f"plan {self.environment.name} on {self._where()}{mode}: {', '.join(stacks)}")
        paths = {
            layer: prepare_mock_plan_directory(self.outdir / "stacks" / self.stack(layer), self.workdir / "mock-plan" / self.stack(layer))
            if mock_upstream else self.outdir / "stacks" / self.stack(layer)
            for layer in ordered
        }
        schema = _Once(lambda directory: json.loads(directory.capture("providers", "schema", "-json")))
        with self.processes.forwarding_signals():
            inits = self._init_all(list(paths.values()))
            with ThreadPoolExecutor(max_workers=PLAN_WORKERS, thread_name_prefix="terraform-plan") as pool:
                planned = {
                    layer: pool.submit(
                        self._plan_one, layer, f"[{index + 1}/{len(ordered)}] ", paths[layer], inits[paths[layer]],
                        schema if mock_upstream else None, refresh_only,
                    )
                    for index, layer in enumerate(ordered)
                }
        outcomes = {self.stack(layer): future.result() for layer, future in planned.items()}
        if self.processes.interrupted:
            raise Interrupted(f"plan interrupted by {self.processes.signal_name}")
        plans = {name: plan for name, plan in outcomes.items() if plan is not None}
        changing = {name: plan for name, plan in plans.items() if plan.has_changes}
        if changing:
            self.progress.section("what changed outside Terraform" if refresh_only else "what the plans change")
            for name, plan in changing.items():
                self.progress.note(f"{name}: {plan.summary}")
                for line in plan.describe():
                    self.progress.note(f"  {line}")
        failed = [name for name, plan in outcomes.items() if plan is None]
        if failed:
            raise StackFailed(f"plan of {', '.join(failed)} failed; see {self.workdir / 'logs'}", plans)
        return plans

    def _plan_one(self, layer: Layer, position: str, path: Path, init: Future, schema: _Once | None, refresh_only: bool) -> StackPlan | None:
        """One stack's plan (with placeholder upstream outputs when `schema` is given); None when it failed."""
        name = self.stack(layer)
        action = "drift" if refresh_only else "plan"
        if self.processes.interrupted:
            self.progress.skipped([name], action, "interrupted")
            return None
        self.progress.start(name, action, position)
        # A saved plan holds state values (API key values among them): read once, then removed.
        plan_file = self.workdir / "plans" / f"{name}.{action}.tfplan"
        plan_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            directory = self._directory(path, observe=self.progress.watch(name))
            init.result()
            if schema is not None:
                self._mock_upstream(name, directory, schema(directory))
            run = directory.plan(lock=schema is None and not refresh_only, out=plan_file, refresh_only=refresh_only)
            plan = _what_changes(directory, run, plan_file, refresh_only=refresh_only)
        except (TerraformInterrupted, Interrupted):
            self.progress.interrupted(name, action, position)
            return None
        except TerraformFailed as failure:
            self._report_failure(name, action, position, failure, layer)
            return None
        finally:
            plan_file.unlink(missing_ok=True)
        self.progress.done(name, action, position, plan.summary)
        return plan

    def _mock_upstream(self, name: str, directory: StackDirectory, schema: dict[str, Any]) -> None:
        """Rewrite a plan copy of the stack so every upstream output it reads has a typed placeholder."""
        config_file = directory.directory / "cdk.tf.json"
        config = json.loads(config_file.read_text())
        mocked = mock_upstream_defaults(config, self._producer_configs(), attribute_type=schema_lookup(schema), region=self.environment.region)
        absent = {read.producer_key for read in mocked if self.reader.read(read.producer_key) is None}
        read_absent_states_as_empty(config, absent, directory.directory / EMPTY_UPSTREAM_STATE)
        lookups = mock_data_sources_reading(
            config, {read.remote_state for read in mocked if read.producer_key in absent},
            attributes=data_source_attributes(schema), region=self.environment.region,
        )
        if lookups:
            self.progress.note(f"{name}: placeholder objects for lookups of mocked values: {', '.join(lookups)}")
        config_file.write_text(json.dumps(config, indent=2))
        for read in mocked:
            source = "no state yet" if read.producer_key in absent else "its state, where it has them"
            self.progress.note(f"{name}: {len(read.outputs)} placeholder outputs for {read.producer_key} ({source})")

    def status(self) -> dict[Layer, StateSummary | None]:
        return {layer: self.state(layer) for layer in DEPLOY_ORDER}

    # --- state locks --------------------------------------------------------------------------

    def locks(self) -> dict[Layer, StateLock | None]:
        return {layer: self.reader.read_lock(state_key(self.environment.name, layer)) for layer in DEPLOY_ORDER}

    def lock_advice(self, layer: Layer, lock: StateLock, now: datetime) -> list[str]:
        """Who holds the lock, and the exact command that removes it if that run is dead."""
        command = f"scripts/lifecycle.sh unlock {self.environment.name} {layer.value} --lock-id {lock.id}{''.join(' ' + option for option in self.cli_options)}"
        if lock.is_stale(now):
            return [f"locked: {lock.describe(now)}", f"if the run that took it is dead (killed, its runner gone): {command}"]
        return [
            f"locked: {lock.describe(now)}",
            f"younger than {_hours(STALE_AFTER)}, so that run may still be going: wait for it;"
            f" if you know it is dead (killed, its runner gone): {command} --force",
        ]

    def held_lock(self, layer: Layer, *, lock_id: str | None = None, force: bool = False, now: datetime | None = None) -> StateLock | None:
        """The layer's lock if `unlock` may remove it; None when there is none; GuardRefusal when it may not.

        `lock_id`, when given, must be the lock held now: the one the operator looked at.
        """
        name = self.stack(layer)
        now = now or datetime.now(UTC)
        lock = self.reader.read_lock(state_key(self.environment.name, layer))
        if lock is None:
            self.progress.note(f"{name}: not locked, nothing to do")
            return None
        if lock_id is not None and lock_id != lock.id:
            raise GuardRefusal(f"refusing to unlock {name}: the lock held now is not {lock_id} but {lock.id} ({lock.describe(now)}); check it with `status {self.environment.name}`")
        if not lock.is_stale(now) and not force:
            raise GuardRefusal(
                f"refusing to unlock {name}: the lock is {lock.describe(now)}; younger than {_hours(STALE_AFTER)} it most likely belongs "
                "to a run that is still going. Wait for that run; if you know it is dead (killed, its runner gone), add --force."
            )
        return lock

    def unlock(self, layer: Layer, *, lock_id: str | None = None, force: bool = False, now: datetime | None = None) -> StateLock | None:
        """Remove the layer's state lock with `terraform force-unlock`, if `held_lock` allows; returns the lock removed."""
        name = self.stack(layer)
        now = now or datetime.now(UTC)
        lock = self.held_lock(layer, lock_id=lock_id, force=force, now=now)
        if lock is None:
            return None
        key = state_key(self.environment.name, layer)
        check_synth_matches(self.target, self.outdir, [name])
        self.progress.note(f"{name}: removing the lock {lock.describe(now)}")
        directory = self._directory(self.outdir / "stacks" / name)
        self.progress.start(name, "unlock")
        with self.processes.forwarding_signals():
            try:
                directory.init()
                directory.force_unlock(lock.id)
            except (TerraformInterrupted, Interrupted):
                self._stopped(name, "unlock", "", [], layer=None)
            except TerraformFailed as failure:
                self._fail(name, "unlock", "", failure, [])
        if self.reader.read_lock(key) is not None:
            raise StackFailed(f"{name} is still locked after terraform force-unlock; see {self.workdir / 'logs'}")
        self.progress.done(name, "unlock", detail=f"lock {lock.id} removed")
        return lock

    # --- step 0 and the account -------------------------------------------------------------

    def bootstrap(self, clients: Any) -> None:
        """The state bucket, made once per account (or per emulator): an existing bucket is left alone."""
        bucket = self.environment.state.bucket
        if _bucket_exists(clients.client("s3"), bucket):
            self.progress.note(f"state bucket {bucket} exists: bootstrap already done")
            return
        check_synth_matches(self.target, self.outdir, [BOOTSTRAP_STACK])
        directory = self._directory(self.outdir / "stacks" / BOOTSTRAP_STACK)
        if self.bootstrap_state is not None:
            directory.backend_config = {"path": str(self.bootstrap_state)}
        directory.observe = self.progress.watch(BOOTSTRAP_STACK)
        rest = [self.stack(layer) for layer in DEPLOY_ORDER]
        self.progress.start(BOOTSTRAP_STACK, "bootstrap")
        with self.processes.forwarding_signals():
            try:
                directory.init()
                directory.apply()
            except (TerraformInterrupted, Interrupted):
                self._stopped(BOOTSTRAP_STACK, "bootstrap", "", rest, layer=None)
            except TerraformFailed as failure:
                self._fail(BOOTSTRAP_STACK, "bootstrap", "", failure, rest)
        self.progress.done(BOOTSTRAP_STACK, "bootstrap", detail=f"state bucket {bucket}")

    def prerequisites(self, clients: Any) -> None:
        for line in ensure_prerequisites(clients, self.environment, create=self.target.is_emulator):
            self.progress.note(line)

    # --- helpers ----------------------------------------------------------------------------

    def stack(self, layer: Layer) -> str:
        return stack_id(layer, self.environment.name)

    def state(self, layer: Layer) -> StateSummary | None:
        return self.reader.read(state_key(self.environment.name, layer))

    def _step(self, layer: Layer, action: str, index: int, ordered: list[Layer], run: Any) -> Any:
        name = self.stack(layer)
        position = f"[{index + 1}/{len(ordered)}] "
        rest = [self.stack(other) for other in ordered[index + 1 :]]
        if self.processes.interrupted:
            self.progress.skipped([name, *rest], action, "interrupted")
            raise Interrupted(f"{action} interrupted by {self.processes.signal_name} before {name}")
        self.progress.start(name, action, position)
        if (lock := self.reader.read_lock(state_key(self.environment.name, layer))) is not None:
            # Terraform waits for it in silence: say why before the wait, not only after it failed.
            self.progress.note(f"{name}: the state is locked, {lock.describe(datetime.now(UTC))}; Terraform waits up to {LOCK_TIMEOUT} for it")
        try:
            outcome = run(self._directory(self.outdir / "stacks" / name, observe=self.progress.watch(name)))
        except (TerraformInterrupted, Interrupted):
            self._stopped(name, action, position, rest, layer=layer)
        except TerraformFailed as failure:
            self._fail(name, action, position, failure, rest, layer=layer)
        state = self.state(layer)
        count = state.managed_resources if state else 0
        self.progress.done(name, action, position, f"{count} resources" if action == "deploy" else "state empty" if count == 0 else f"{count} resources left")
        return outcome

    def _fail(self, name: str, action: str, position: str, failure: TerraformFailed, rest: list[str], layer: Layer | None = None) -> NoReturn:
        self._report_failure(name, action, position, failure, layer)
        self.progress.skipped(rest, action, f"{name} failed")
        raise StackFailed(f"{action} of {name} failed (terraform {failure.command}); see {failure.log_file}")

    def _report_failure(self, name: str, action: str, position: str, failure: TerraformFailed, layer: Layer | None) -> None:
        """The failed step, the failing resources with Terraform's diagnostics, a held lock, and where the full log is."""
        self.progress.failed(name, action, position, failure)
        if layer is not None and failure.run is not None and failure.run.hit_lock():
            lock = self.reader.read_lock(state_key(self.environment.name, layer))
            for line in self.lock_advice(layer, lock, datetime.now(UTC)) if lock else ["the lock has been released since: run the command again"]:
                self.progress.note(line)
        self.progress.note(f"full log: {failure.log_file}")

    def _stopped(self, name: str, action: str, position: str, rest: list[str], layer: Layer | None) -> NoReturn:
        """The step was interrupted: how Terraform stopped, whether it left its lock, what was not attempted."""
        self.progress.interrupted(name, action, position)
        how = "stopped hard after the grace period" if self.processes.forced else "stopped after the interrupt, writing its state first"
        lock = self.reader.read_lock(state_key(self.environment.name, layer)) if layer is not None else None
        if layer is not None and lock is None:
            self.progress.note(f"Terraform {how}; the state lock is released")
        else:
            self.progress.note(f"Terraform {how}")
        if layer is not None and lock is not None:
            for line in self.lock_advice(layer, lock, datetime.now(UTC)):
                self.progress.note(line)
        self.progress.skipped(rest, action, "interrupted")
        raise Interrupted(f"{action} of {name} interrupted by {self.processes.signal_name}")

    def _init_all(self, paths: list[Path]) -> dict[Path, Future]:
        """`terraform init` every stack in the background (one at a time, see StackDirectory.init), overlapping the applies."""
        executor = ThreadPoolExecutor(max_workers=INIT_WORKERS, thread_name_prefix="terraform-init")
        futures = {path: executor.submit(self._directory(path, quiet=True).init) for path in paths}
        executor.shutdown(wait=False)
        return futures

    def _directory(self, path: Path, *, quiet: bool = False, observe: Observer | None = None) -> StackDirectory:
        env = terraform_env(self.base_env)
        env.update(self.target.client_environment())
        echo = self.progress.echo if self.verbose and not quiet else None
        return StackDirectory(path, env, self.workdir / "logs", echo=echo, observe=observe, processes=self.processes)

    def _producer_configs(self) -> dict[str, dict[str, Any]]:
        configs = {}
        for layer in DEPLOY_ORDER:
            config_file = self.outdir / "stacks" / self.stack(layer) / "cdk.tf.json"
            if config_file.exists():
                configs[state_key(self.environment.name, layer)] = json.loads(config_file.read_text())
        return configs

    def _where(self) -> str:
        return f"the emulator at {self.target.emulator_endpoint}" if self.target.is_emulator else "AWS"


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} hour{'' if hours == 1 else 's'}"


class _Once:
    """A value computed by the first caller and shared with the rest (the provider schema, ~3 s to read)."""

    def __init__(self, compute: Callable[[StackDirectory], Any]) -> None:
        self._compute = compute
        self._lock = threading.Lock()
        self._value: Any = None

    def __call__(self, directory: StackDirectory) -> Any:
        with self._lock:
            if self._value is None:
                self._value = self._compute(directory)
            return self._value


def _what_changes(directory: StackDirectory, run: TerraformRun, plan_file: Path, *, refresh_only: bool) -> StackPlan:
    """What a plan changes (refresh-only: what drifted), attribute by attribute where that matters.

    Terraform's events already name every address and its action. The saved plan, read with one
    more Terraform start, is needed only for the attributes of what is updated, replaced or drifted,
    so a clean plan or one that only creates costs nothing more."""
    if refresh_only and not run.drifted:
        return StackPlan("no drift")
    listed = run.drifted if refresh_only else run.resource_changes
    if not any(action != "create" for action in listed.values()):
        changes = tuple(ResourceChange(address, action) for address, action in sorted(listed.items()))
        return StackPlan(run.plan_line, changes, tuple(sorted(run.changed_outputs)))
    saved = directory.show_json(plan_file)
    if refresh_only:
        # Drift whose every difference is representation (null read back as empty) is no drift.
        drifted = tuple(drifted_resources(saved))
        return StackPlan(f"drift in {len(drifted)} resources" if drifted else "no drift", drifted)
    return StackPlan(run.plan_line, tuple(planned_changes(saved)), tuple(changed_outputs(saved)))


def _bucket_exists(s3: Any, bucket: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise
    return True


__all__ = ["GuardRefusal", "Interrupted", "Lifecycle", "StackFailed"]
