"""Deploy, tear down, plan and inspect one environment, stack by stack, in the order of the layer DAG."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    outputs_read,
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
    state_read_failure,
)
from lifecycle.saved_plans import (
    PLAN_FILE,
    SUMMARY_FILE,
    LayerPlan,
    SavedPlans,
    SavedPlansError,
    StateVersion,
    changed_reads,
    file_sha256,
    outputs_changed_upstream,
    prepare_directory,
    read_directory,
    render_summary,
    staleness,
    write_layer,
    write_manifest,
)
from lifecycle.sealing import SEALED_FILE, is_sealed, open_sealed, seal
from lifecycle.synth import SynthMismatch, check_synth_matches
from lifecycle.teardown import FinalBackupFailed, FinalBackups, check_confirmation, kept_audit_logs, kept_secrets
from lifecycle.terraform import LOCK_TIMEOUT, StackDirectory, TerraformFailed, TerraformInterrupted
from lifecycle.terraform_ui import TerraformRun
from scripts.terraform_cli import terraform_env
from stacks.layers import DEPLOY_ORDER, Layer, stack_id

BOOTSTRAP_STACK = "bootstrap"
INIT_WORKERS = 1
# Plans only read state, so they run side by side; more than the machine's two cores only contend.
PLAN_WORKERS = 2
# Refreshes after applies run beside the next layer's apply, which mostly waits on AWS.
REFRESH_WORKERS = 2
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
    # The target's AWS clients (`.client(service)`), for what a teardown keeps beyond Terraform.
    clients: Any = None

    def __post_init__(self) -> None:
        self.processes.notify = self.progress.note

    # --- the environment -------------------------------------------------------------------

    def deploy(self, layers: list[Layer]) -> None:
        ordered = [layer for layer in DEPLOY_ORDER if layer in layers]
        stacks = [self.stack(layer) for layer in ordered]
        check_synth_matches(self.target, self.outdir, stacks)
        # Refuse before touching anything: every layer's producers are deployed or come earlier in this
        # run, and every layer's own state can be read (StateUnreadable otherwise, not a guess).
        for index, layer in enumerate(ordered):
            check_deploy(self.reader, self.environment.name, layer, arriving=frozenset(ordered[:index]))
            self.state(layer)
        self.progress.section(f"deploy {self.environment.name} on {self._where()}: {' -> '.join(stacks)}")
        with self.processes.forwarding_signals():
            inits = self._init_all([self.outdir / "stacks" / stack for stack in stacks])
            with self._refreshing_after_apply("deploy") as applied:
                for index, layer in enumerate(ordered):
                    _, run = self._step(layer, "deploy", index, ordered, lambda directory: (inits[directory.directory].result(), directory.apply()))
                    applied(layer, run)

    @contextmanager
    def _refreshing_after_apply(self, action: str) -> Iterator[Callable[[Layer, TerraformRun], None]]:
        """Refresh each layer whose apply changed something (`_refresh`), beside the next layer's apply,
        which only reads its outputs (a refresh keeps them); done when the last refresh is. Two at a
        time, so the last layer's refresh does not wait for the one before it."""
        refresher = ThreadPoolExecutor(max_workers=REFRESH_WORKERS, thread_name_prefix="terraform-refresh")
        refreshes: list[Future] = []

        def applied(layer: Layer, run: TerraformRun) -> None:
            if any(run.changes.values()):
                refreshes.append(refresher.submit(self._refresh, layer))

        try:
            yield applied
        finally:
            refresher.shutdown(wait=True)
        if self.processes.interrupted:
            raise Interrupted(f"{action} interrupted by {self.processes.signal_name}")
        failed = [name for future in refreshes if (name := future.result()) is not None]
        if failed:
            raise StackFailed(f"refreshing the state of {', '.join(failed)} after its apply failed (what it applied stands); see {self.workdir / 'logs'}")

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

    def destroy(self, layers: list[Layer], *, confirmation: str | None = None) -> None:
        """Destroy `layers` in reverse DAG order; `confirmation` is the environment's name typed back
        (required where `teardown.confirm_with_name`), checked before anything is read or run."""
        ordered = [layer for layer in reversed(DEPLOY_ORDER) if layer in layers]
        stacks = [self.stack(layer) for layer in ordered]
        check_confirmation(self.environment, stacks, confirmation)
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
                # What the layer holds right before it goes: what the teardown keeps is read from it.
                before = self.state(layer)
                backups = self._final_backups(before, index, ordered) if layer is Layer.DATA and self.environment.data.final_backups_on_destroy else None
                try:
                    self._step(layer, "destroy", index, ordered, lambda directory: (inits[directory.directory].result(), directory.destroy()))
                except BaseException:
                    # A destroy that failed half-way may have scheduled the key's deletion already.
                    if backups is not None:
                        self._keep_backup_keys(before, backups, failing=True)
                    raise
                if backups is not None:
                    self._keep_backup_keys(before, backups, failing=False)
                self._report_kept(layer, before)

    def _final_backups(self, state: StateSummary, index: int, ordered: list[Layer]) -> FinalBackups:
        """The data layer's final snapshot and backup, a step of their own; the layer is not destroyed unless both are available."""
        name = self.stack(Layer.DATA)
        position = f"[{index + 1}/{len(ordered)}] "
        rest = [self.stack(other) for other in ordered[index:]]
        if self.clients is None:
            raise ValueError(f"{name}: final backups need the target's AWS clients")
        if self.processes.interrupted:
            self.progress.skipped(rest, "destroy", "interrupted")
            raise Interrupted(f"destroy interrupted by {self.processes.signal_name} before the final backups of {name}")
        backups = FinalBackups(self.clients, self.environment, check_interrupted=self.processes.check)
        self.progress.start(name, "backup", position)
        try:
            kept = backups.take(state, datetime.now(UTC))
        except Interrupted:
            self.progress.interrupted(name, "backup", position)
            self.progress.skipped(rest, "destroy", "interrupted")
            raise Interrupted(f"the final backups of {name} interrupted by {self.processes.signal_name}; nothing of it was destroyed") from None
        except FinalBackupFailed as failure:
            self.progress.failed(name, "backup", position, detail=str(failure))
            self.progress.skipped(rest, "destroy", f"the final backups of {name} failed")
            raise StackFailed(f"the final backups of {name} failed, so nothing of it was destroyed: {failure}") from None
        for item in kept:
            self.progress.keep(item)
        self.progress.done(name, "backup", position, ", ".join(item.name for item in kept) or "nothing to back up")
        return backups

    def _keep_backup_keys(self, state: StateSummary, backups: FinalBackups, *, failing: bool) -> None:
        """Keep the keys the final backups need; when the destroy itself failed, only say what could not be kept."""
        try:
            for item in backups.keep_keys(state):
                self.progress.keep(item)
        except FinalBackupFailed as failure:
            if not failing:
                raise StackFailed(str(failure)) from None
            self.progress.note(str(failure))

    def _report_kept(self, layer: Layer, before: StateSummary | None) -> None:
        """What the destroyed layer left in place on purpose: secrets in their recovery window, archived audit logs."""
        if before is None:
            return
        kept = kept_secrets(before, datetime.now(UTC)) if layer is Layer.DATA else []
        archived = {Layer.NETWORK: self.environment.network.flow_logs_to_account_archive, Layer.COMPUTE: self.environment.compute.access_logs_to_account_archive}
        if archived.get(layer):
            kept += kept_audit_logs(before)
        for item in kept:
            self.progress.keep(item)

    def plan(
        self, layers: list[Layer], *, mock_upstream: bool, refresh_only: bool = False, save: Path | None = None, kms: Any = None,
    ) -> dict[str, StackPlan]:
        """Plan every given layer; plans only read, so they run side by side and every failure is reported.

        Returns each stack's plan with what it changes, which is also printed per layer. With
        `refresh_only`, what changed outside Terraform instead, without taking the state lock
        (`drift` runs with a role that can only read).
        With `save`, every plan is kept there for `apply_saved`, with a Markdown summary. A saved plan
        is made from the synth output itself with the producers' real outputs; a layer whose producers
        lack outputs it reads is planned with placeholders for review only (docs/lifecycle.md,
        "Plan, review, apply"). Saved plans take no state lock: the apply refuses a plan whose state moved.
        With `kms` (on AWS) they are sealed with the state's key (`lifecycle/sealing.py`).
        """
        ordered = [layer for layer in DEPLOY_ORDER if layer in layers]
        stacks = [self.stack(layer) for layer in ordered]
        check_synth_matches(self.target, self.outdir, stacks)
        if save is not None:
            save = save.resolve()  # Terraform runs in each stack's directory
            prepare_directory(save, environment=self.environment.name)
        review_only = {layer: self._missing_upstream(layer) for layer in ordered} if save is not None else {}
        mocked = {layer for layer in ordered if mock_upstream or review_only.get(layer)}
        mode = " with mocked upstream outputs" if mock_upstream else f", saved to {save}" if save is not None else " in refresh-only mode" if refresh_only else ""
        self.progress.section(f"plan {self.environment.name} on {self._where()}{mode}: {', '.join(stacks)}")
        for layer, why in review_only.items():
            if why:
                self.progress.note(f"{self.stack(layer)}: planned for review only, {why}")
        paths = {
            layer: prepare_mock_plan_directory(self.outdir / "stacks" / self.stack(layer), self.workdir / "mock-plan" / self.stack(layer))
            if layer in mocked else self.outdir / "stacks" / self.stack(layer)
            for layer in ordered
        }
        schema = _Once(lambda directory: json.loads(directory.capture("providers", "schema", "-json")))
        saved: dict[Layer, LayerPlan] = {}
        with self.processes.forwarding_signals():
            inits = self._init_all(list(paths.values()))
            with ThreadPoolExecutor(max_workers=PLAN_WORKERS, thread_name_prefix="terraform-plan") as pool:
                planned = {
                    layer: pool.submit(
                        self._plan_one, layer, f"[{index + 1}/{len(ordered)}] ", paths[layer], inits[paths[layer]],
                        schema if layer in mocked else None, _SaveTo(save, review_only[layer], saved) if save is not None else None, refresh_only,
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
        if save is not None:
            self._write_saved(save, [saved[layer] for layer in ordered if layer in saved], failed)
            if kms is not None:
                seal(save, kms=kms, key_id=self.environment.state.kms_key_alias, environment=self.environment.name)
                self.progress.note(f"sealed in {save / SEALED_FILE} with {self.environment.state.kms_key_alias}; {SUMMARY_FILE} stays readable")
        if failed:
            raise StackFailed(f"plan of {', '.join(failed)} failed; see {self.workdir / 'logs'}", plans)
        return plans

    def _plan_one(
        self, layer: Layer, position: str, path: Path, init: Future, schema: _Once | None, save: _SaveTo | None = None, refresh_only: bool = False,
    ) -> StackPlan | None:
        """One stack's plan (with placeholder upstream outputs when `schema` is given, kept when `save` is); None when it failed."""
        name = self.stack(layer)
        action = "drift" if refresh_only else "plan"
        if self.processes.interrupted:
            self.progress.skipped([name], action, "interrupted")
            return None
        self.progress.start(name, action, position)
        # Kept for `apply --plans` when saving; otherwise only read here and removed, since a plan file
        # holds state values (API key values among them).
        plan_file = save.directory / name / PLAN_FILE if save is not None else self.workdir / "plans" / f"{name}.{action}.tfplan"
        plan_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            directory = self._directory(path, observe=self.progress.watch(name))
            init.result()
            if schema is not None:
                self._mock_upstream(name, directory, schema(directory))
            run = directory.plan(lock=schema is None and save is None and not refresh_only, out=plan_file, refresh_only=refresh_only)
            show = functools.cache(lambda: directory.show_json(plan_file))
            if save is not None:
                save.plans[layer] = self._keep_plan(layer, plan_file, show(), save)
            plan = _what_changes(run, show, refresh_only=refresh_only)
        except (TerraformInterrupted, Interrupted):
            self.progress.interrupted(name, action, position)
            return None
        except TerraformFailed as failure:
            self._report_failure(name, action, position, failure, layer)
            return None
        finally:
            if save is None:
                plan_file.unlink(missing_ok=True)
        self.progress.done(name, action, position, plan.summary)
        return plan

    def _keep_plan(self, layer: Layer, plan_file: Path, plan_json: dict[str, Any], save: _SaveTo) -> LayerPlan:
        """The plan's JSON rendering and what the apply checks, beside the plan file."""
        name = self.stack(layer)
        plan = LayerPlan.from_plan_json(
            plan_json, layer=layer.value, stack=name, state_key=state_key(self.environment.name, layer),
            state=StateVersion.in_plan_file(plan_file), config_sha256=file_sha256(self.outdir / "stacks" / name / "cdk.tf.json"),
            review_only=save.review_only,
        )
        write_layer(save.directory, plan, plan_json)
        if plan.review_only:
            # Made from placeholders: never to be applied, by the lifecycle or by hand.
            plan_file.unlink()
        return plan

    def _write_saved(self, directory: Path, plans: list[LayerPlan], failed: list[str]) -> None:
        planned_at = datetime.now(UTC).isoformat(timespec="seconds")
        write_manifest(directory, environment=self.environment.name, target=self.target.name, planned_at=planned_at,
                       stacks=[plan.stack for plan in plans], failed=failed)
        summary = render_summary(environment=self.environment.name, where=self._where(), planned_at=planned_at, plans=plans,
                                 failed=failed, directory=str(directory))
        (directory / SUMMARY_FILE).write_text(summary)
        for plan in plans:
            for producer, outputs in outputs_changed_upstream(plan, plans).items():
                self.progress.note(f"{plan.stack}: read {len(outputs)} output(s) of {producer} that its plan changes: "
                                   f"the apply refuses this plan once {producer} is applied; plan again then")
        self.progress.note(f"saved in {directory}, summary {directory / SUMMARY_FILE}; apply with `apply {self.environment.name} --plans {directory}`")

    def _missing_upstream(self, layer: Layer) -> str:
        """Which producers lack outputs the layer reads (so a real plan cannot be made yet); "" when none does."""
        config = json.loads((self.outdir / "stacks" / self.stack(layer) / "cdk.tf.json").read_text())
        producers = {state_key(self.environment.name, other): self.stack(other) for other in DEPLOY_ORDER}
        missing = []
        for key, outputs in outputs_read(config).items():
            state = self.reader.read(key)
            absent = [output for output in outputs if state is None or output not in state.outputs]
            if absent:
                producer = producers.get(key, key)
                missing.append(f"{producer} (no state)" if state is None else f"{producer} ({len(absent)} of the outputs it reads missing)")
        if not missing:
            return ""
        return f"with placeholders for the outputs of {', '.join(missing)}: plan again once they are applied"

    def apply_saved(self, directory: Path, *, kms: Any = None) -> None:
        """Apply exactly the plans `plan --save` kept, in DAG order; a stale or superseded plan is refused, naming why.

        Sealed plans (made on AWS) are opened with `kms` into the workdir first."""
        named = directory
        if is_sealed(directory):
            if kms is None:
                raise SavedPlansError(f"{directory} holds plans sealed with KMS (made on AWS): apply them with --target aws")
            directory = open_sealed(directory, kms=kms, environment=self.environment.name, into=self.workdir / "saved-plans" / self.environment.name)
        saved = read_directory(directory, environment=self.environment.name)
        if saved.target != self.target.name:
            raise SavedPlansError(f"{directory} was planned for the {saved.target} target, not {self.target.name}")
        plans = sorted(saved.layers, key=lambda plan: DEPLOY_ORDER.index(Layer(plan.layer)))
        check_synth_matches(self.target, self.outdir, [plan.stack for plan in plans])
        for plan in plans:
            config_file = self.outdir / "stacks" / plan.stack / "cdk.tf.json"
            if file_sha256(config_file) != plan.config_sha256:
                raise SynthMismatch(f"{config_file} is not the synthesized stack {plan.stack} was planned from: "
                                    "apply with the synth output the plans were made from (--outdir), or plan again")
            if plan.has_changes and not plan.review_only and not saved.plan_file(plan).exists():
                raise SavedPlansError(f"{saved.plan_file(plan)} is missing: {directory} is incomplete; plan again")
        # Refuse before touching anything: each state is still the one its plan was made against,
        # and every producer is deployed or applied earlier in this run.
        for plan in plans:
            self._refuse_stale(plan, named)
        changing = [Layer(plan.layer) for plan in plans if plan.has_changes]
        for index, layer in enumerate(changing):
            check_deploy(self.reader, self.environment.name, layer, arriving=frozenset(changing[:index]))
        self.progress.section(f"apply {self.environment.name} on {self._where()}: the plans of {saved.planned_at} in {named}: "
                              f"{' -> '.join(plan.stack for plan in plans)}")
        for plan in plans:
            for producer, outputs in outputs_changed_upstream(plan, plans).items():
                self.progress.note(f"{plan.stack}: its plan read {len(outputs)} output(s) that {producer}'s plan changes: refused after {producer}")
        with self.processes.forwarding_signals():
            inits = self._init_all([self.outdir / "stacks" / plan.stack for plan in plans if plan.has_changes and not plan.review_only])
            with self._refreshing_after_apply("apply") as applied:
                self._apply_each(plans, saved, named, inits, applied)

    def _apply_each(
        self, plans: list[LayerPlan], saved: SavedPlans, named: Path, inits: dict[Path, Future], applied: Callable[[Layer, TerraformRun], None],
    ) -> None:
        """Each saved plan in turn, checked again right before it is applied; a plan without changes is skipped."""
        layers = [Layer(plan.layer) for plan in plans]
        for index, plan in enumerate(plans):
            rest = [other.stack for other in plans[index + 1 :]]
            try:
                self._refuse_stale(plan, named)
                self._refuse_superseded(plan, named)
            except GuardRefusal:
                self.progress.skipped([plan.stack, *rest], "apply", f"{plan.stack} needs a new plan")
                raise
            if not plan.has_changes:
                self.progress.note(f"{plan.stack}: no changes in its plan, skipped")
                continue
            plan_file, counts = saved.plan_file(plan).resolve(), plan.counts
            planned = {"added": counts["add"], "changed": counts["change"], "destroyed": counts["destroy"]}
            _, run = self._step(layers[index], "apply", index, layers,
                                lambda stack_directory: (inits[stack_directory.directory].result(), stack_directory.apply_plan(plan_file, planned=planned)))
            applied(layers[index], run)

    def _refuse_stale(self, plan: LayerPlan, directory: Path) -> None:
        why = staleness(plan.state, StateVersion.of(self.reader.read(plan.state_key)))
        if why:
            raise GuardRefusal(f"refusing to apply the saved plan of {plan.stack}: its state moved since the plan ({why}); "
                               f"plan again ({self._plan_again(directory)})")

    def _refuse_superseded(self, plan: LayerPlan, directory: Path) -> None:
        """A review-only plan, or one that read upstream outputs that have changed since, is not what would be applied now."""
        if plan.review_only:
            raise GuardRefusal(f"refusing to apply the saved plan of {plan.stack}: it was planned for review only, {plan.review_only} "
                               f"({self._plan_again(directory)})")
        changed = changed_reads(plan, self.reader.read)
        if changed:
            producers = {state_key(self.environment.name, layer): self.stack(layer) for layer in DEPLOY_ORDER}
            outputs = "; ".join(f"{producers.get(key, key)}: {_listed(names)}" for key, names in changed.items())
            raise GuardRefusal(f"refusing to apply the saved plan of {plan.stack}: the upstream outputs it was planned with have changed "
                               f"since ({outputs}); plan again ({self._plan_again(directory)})")

    def _plan_again(self, directory: Path) -> str:
        return f"scripts/lifecycle.sh plan {self.environment.name} --save {directory}{''.join(' ' + option for option in self.cli_options)}"

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
        self.progress.done(name, action, position, f"{count} resources" if action in ("deploy", "apply") else "state empty" if count == 0 else f"{count} resources left")
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


@dataclass(frozen=True)
class _SaveTo:
    """Where a saved plan goes, why it is review-only (if it is), and the plans kept so far (by the plan threads)."""

    directory: Path
    review_only: str
    plans: dict[Layer, LayerPlan]


def _listed(names: list[str], shown: int = 3) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


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


def _what_changes(run: TerraformRun, show: Callable[[], dict[str, Any]], *, refresh_only: bool) -> StackPlan:
    """What a plan changes (refresh-only: what drifted), attribute by attribute where that matters.

    Terraform's events already name every address and its action. The saved plan, read with one
    more Terraform start (`show`), is needed only for the attributes of what is updated, replaced or
    drifted, so a clean plan or one that only creates costs nothing more."""
    if refresh_only and not run.drifted:
        return StackPlan("no drift")
    listed = run.drifted if refresh_only else run.resource_changes
    if not any(action != "create" for action in listed.values()):
        changes = tuple(ResourceChange(address, action) for address, action in sorted(listed.items()))
        return StackPlan(run.plan_line, changes, tuple(sorted(run.changed_outputs)))
    saved = show()
    if refresh_only:
        # Drift whose every difference is representation (null read back as empty) is no drift.
        drifted = tuple(drifted_resources(saved))
        return StackPlan(f"drift in {len(drifted)} resource{'' if len(drifted) == 1 else 's'}" if drifted else "no drift", drifted)
    return StackPlan(run.plan_line, tuple(planned_changes(saved)), tuple(changed_outputs(saved)))


def _bucket_exists(s3: Any, bucket: str) -> bool:
    """Whether the state bucket exists; any answer but "no such bucket" is StateUnreadable, never a guess."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise state_read_failure(error, bucket=bucket, key=None, bootstrap_command="") from None
    except BotoCoreError as error:
        raise state_read_failure(error, bucket=bucket, key=None, bootstrap_command="") from None
    return True


__all__ = ["GuardRefusal", "Interrupted", "Lifecycle", "StackFailed"]
