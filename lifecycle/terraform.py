"""Terraform on one synthesized stack directory: the same commands `cdktf deploy` runs, with full control.

`plan`, `apply` and `destroy` run with Terraform's machine-readable UI (`-json`): each event
updates the command's TerraformRun (`lifecycle/terraform_ui.py`), which the progress display
watches. Every command's output goes to a log per stack and action, one appended section per
run and each line stamped with the seconds since that run started, written as Terraform's human
UI would have printed it; the raw events are kept beside it (`<stack>.<action>.jsonl`). With
--verbose the same lines are echoed. Every Terraform process is started through the run's
TerraformProcesses, which passes it an interrupt (`lifecycle/interrupts.py`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from subprocess import PIPE, STDOUT
from typing import IO

from lifecycle.interrupts import TerraformProcesses
from lifecycle.terraform_ui import ResourceTiming, TerraformRun, parse_event
from scripts.terraform_cli import init_lock

# Terraform's S3 lock file is an object next to the state; another run holding it is waited for.
LOCK_TIMEOUT = "120s"
ERROR_LINES_SHOWN = 40
LOG_SECTION = "==>"
INIT_ATTEMPTS = 3
# Beside the providers Terraform installed: what the directory was last initialized with.
INIT_FINGERPRINT_FILE = "lifecycle-init.sha256"

Observer = Callable[[TerraformRun, ResourceTiming | None], None]


class TerraformFailed(Exception):
    def __init__(self, command: str, log_file: Path, excerpt: str, run: TerraformRun | None = None) -> None:
        super().__init__(f"terraform {command} failed; log: {log_file}")
        self.command = command
        self.log_file = log_file
        self.excerpt = excerpt
        # What the command did before it failed: its diagnostics, the resources that errored.
        self.run = run


class TerraformInterrupted(TerraformFailed):
    """Terraform exited because the run was interrupted (it was forwarded the signal)."""


@dataclass
class StackDirectory:
    directory: Path
    env: dict[str, str]
    log_dir: Path
    # Each line of Terraform's output as it comes (--verbose).
    echo: Callable[[str], None] | None = None
    # For the bootstrap stack's local backend: where its state lives for this target.
    backend_config: dict[str, str] = field(default_factory=dict)
    # Called with the command's progress after every event of plan, apply and destroy.
    observe: Observer | None = None
    processes: TerraformProcesses = field(default_factory=TerraformProcesses)

    @property
    def name(self) -> str:
        return self.directory.name

    def init(self, *, backend: bool = True) -> None:
        """`terraform init`, skipped when this directory was last initialized with exactly these inputs.

        Every lifecycle command starts with an init of each stack it touches (~2 s each, one at a time);
        the inputs that decide what init does are the command line, the `terraform` block (backend,
        required providers), the CLI configuration and the dependency lock file, so an unchanged
        fingerprint of them, with the providers it installed still in place, means the init would
        change nothing. A re-synthesized stack that changes any of them is initialized again."""
        args = ["init", "-input=false", "-no-color", "-reconfigure"]
        if backend:
            args += [f"-backend-config={key}={value}" for key, value in self.backend_config.items()]
        else:
            args.append("-backend=false")
        fingerprint = self._init_fingerprint(args)
        if (
            fingerprint is not None
            and self._fingerprint_file.is_file()
            and self._fingerprint_file.read_text() == fingerprint
            and self._providers_installed()
        ):
            return
        # One init at a time per checkout (init_lock), and a retry for inits of tools outside
        # this project racing with it.
        with init_lock():
            for attempt in range(INIT_ATTEMPTS):
                try:
                    self._run(args, "init")
                    break
                except TerraformFailed as failure:
                    if "Failed to install provider" not in failure.excerpt or attempt == INIT_ATTEMPTS - 1:
                        raise
                    time.sleep(1 + attempt)
        # Taken again: the first init writes the dependency lock file it depends on.
        if (fingerprint := self._init_fingerprint(args)) is not None and self._fingerprint_file.parent.is_dir():
            self._fingerprint_file.write_text(fingerprint)

    def _providers_installed(self) -> bool:
        """Whether the provider binaries init installed are still there (links into a plugin cache
        that was cleared are not): else Terraform would refuse to run until the next init."""
        # <host>/<namespace>/<type>/<version>/<os_arch>: with a plugin cache, each a link to the cache's copy.
        packages = list((self.directory / ".terraform" / "providers").glob("*/*/*/*/*"))
        return bool(packages) and all(any(package.glob("terraform-provider-*")) for package in packages)

    @property
    def _fingerprint_file(self) -> Path:
        return self.directory / ".terraform" / INIT_FINGERPRINT_FILE

    def _init_fingerprint(self, args: list[str]) -> str | None:
        """What `terraform init` depends on, hashed; None when it cannot be told (no synthesized config)."""
        try:
            terraform_block = json.loads((self.directory / "cdk.tf.json").read_text()).get("terraform", {})
        except (OSError, ValueError):
            return None
        cli_config = Path(self.env["TF_CLI_CONFIG_FILE"]) if self.env.get("TF_CLI_CONFIG_FILE") else None
        inputs = {
            "args": args,
            "terraform": terraform_block,
            "cli_config": cli_config.read_text() if cli_config is not None and cli_config.is_file() else None,
            "lock_file": _read_or_none(self.directory / ".terraform.lock.hcl"),
        }
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()

    def apply(self) -> TerraformRun:
        return self._run_json(["apply", "-auto-approve", "-input=false", f"-lock-timeout={LOCK_TIMEOUT}"], "apply")

    def destroy(self) -> TerraformRun:
        return self._run_json(["destroy", "-auto-approve", "-input=false", f"-lock-timeout={LOCK_TIMEOUT}"], "destroy")

    def plan(self, *, lock: bool = True, out: Path | None = None, refresh_only: bool = False) -> TerraformRun:
        """A plan, saved to `out` when given; its `plan_line` is the summary ("Plan: 12 to add, 0 to change, 0 to destroy.").

        `refresh_only` compares what AWS holds with the state only, never with the configuration:
        what changed outside Terraform (`run.drifted`)."""
        args = ["plan", "-input=false", f"-lock={'true' if lock else 'false'}", f"-lock-timeout={LOCK_TIMEOUT}"]
        args += [f"-out={out}"] if out is not None else []
        args += ["-refresh-only"] if refresh_only else []
        return self._run_json(args, "drift" if refresh_only else "plan")

    def apply_plan(self, plan_file: Path, *, planned: dict[str, int] | None = None) -> TerraformRun:
        """Apply exactly a saved plan; Terraform itself refuses one whose state moved ("Saved plan is stale").

        Terraform does not print a saved plan's summary again, so the progress counts start from `planned`
        (added/changed/destroyed, as the plan said)."""
        return self._run_json(["apply", "-input=false", f"-lock-timeout={LOCK_TIMEOUT}"], "apply", operands=[str(plan_file)], planned=planned)

    def refresh(self) -> TerraformRun:
        """Write into the state what AWS holds now, changing nothing in AWS (`apply -refresh-only`)."""
        return self._run_json(["apply", "-refresh-only", "-auto-approve", "-input=false", f"-lock-timeout={LOCK_TIMEOUT}"], "refresh")

    def show_json(self, plan_file: Path) -> dict:
        """`terraform show -json` of a saved plan: every change with its before and after, the prior state, the configuration."""
        return json.loads(self.capture("show", "-json", str(plan_file)))

    def force_unlock(self, lock_id: str) -> None:
        """Remove the state lock `lock_id` (Terraform checks it is the lock held now)."""
        self._run(["force-unlock", "-force", lock_id], "unlock")

    def validate(self) -> None:
        self._run(["validate", "-no-color"], "validate")

    def capture(self, *args: str) -> str:
        """A read-only command whose stdout is the answer (e.g. `providers schema -json`)."""
        with self.processes.run(["terraform", *args], cwd=self.directory, env=self.env, stderr=PIPE) as process:
            stdout, stderr = process.communicate()
        if process.returncode != 0:
            failure = TerraformInterrupted if self.processes.interrupted else TerraformFailed
            raise failure(" ".join(args), self.log_dir, stderr[-4000:])
        return stdout

    def _run_json(self, args: list[str], label: str, operands: list[str] | None = None, planned: dict[str, int] | None = None) -> TerraformRun:
        """`operands` (a plan file) follow the options: Terraform reads no option after them."""
        run = TerraformRun(args[0], started_at=time.time())
        if planned is not None:
            run.planned_changes, run.planned = dict(planned), sum(planned.values())
        self._run([*args, "-json", *(operands or [])], label, run)
        return run

    def _run(self, args: list[str], label: str, run: TerraformRun | None = None) -> str:
        """Run Terraform, log every line, feed `run` (with -json) and raise TerraformFailed on a non-zero exit."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_file = self.log_dir / f"{self.name}.{label}.log"
        lines: list[str] = []
        started = time.monotonic()
        with ExitStack() as files:
            log = files.enter_context(log_file.open("a"))
            events: IO[str] | None = files.enter_context((self.log_dir / f"{self.name}.{label}.jsonl").open("a")) if run else None
            process = files.enter_context(self.processes.run(["terraform", *args], cwd=self.directory, env=self.env, stderr=STDOUT, bufsize=1))
            assert process.stdout is not None
            log.write(f"{LOG_SECTION} terraform {' '.join(args)} at {datetime.now(UTC).isoformat(timespec='seconds')}\n")
            if run is not None and self.observe:
                self.observe(run, None)
            for line in process.stdout:
                event = parse_event(line) if run is not None else None
                if event is not None and events is not None:
                    events.write(line)
                seconds = event.at - run.started_at if event is not None and run is not None and event.at else time.monotonic() - started
                for text in (event.log_text() if event is not None else line.rstrip("\n")).splitlines() or [""]:
                    log.write(f"{seconds:+8.1f}s {text}\n")
                    lines.append(text)
                    if self.echo:
                        self.echo(text)
                if event is not None and run is not None:
                    finished = run.feed(event)
                    if self.observe:
                        self.observe(run, finished)
        if run is not None:
            run.ended_at = time.time()
        if process.returncode != 0:
            failure = TerraformInterrupted if self.processes.interrupted else TerraformFailed
            raise failure(label, log_file, _error_excerpt(lines), run)
        return "\n".join(lines)


def _read_or_none(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None


def _error_excerpt(lines: list[str]) -> str:
    """Terraform's error blocks (`Error: ...` with their context), or the tail of the output."""
    start = next((i for i, line in enumerate(lines) if "Error:" in line), None)
    chosen = lines[start:] if start is not None else lines[-ERROR_LINES_SHOWN:]
    return "\n".join(chosen[:ERROR_LINES_SHOWN]).rstrip()
