"""Terraform on one synthesized stack directory: the same commands `cdktf deploy` runs, with full control.

Output goes to a log file per stack and action (and to the terminal with --verbose); on failure
the error lines are printed, so a red CI step says what broke without digging.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from scripts.terraform_cli import CACHE_DIR

# Terraform's S3 lock file is an object next to the state; another run holding it is waited for.
LOCK_TIMEOUT = "120s"
ERROR_LINES_SHOWN = 40
LOG_SECTION = "==>"
INIT_LOCK_FILE = CACHE_DIR / "init.lock"
INIT_ATTEMPTS = 3


class TerraformFailed(Exception):
    def __init__(self, command: str, log_file: Path, excerpt: str) -> None:
        super().__init__(f"terraform {command} failed; log: {log_file}")
        self.command = command
        self.log_file = log_file
        self.excerpt = excerpt


@dataclass
class StackDirectory:
    directory: Path
    env: dict[str, str]
    log_dir: Path
    verbose: bool = False
    # For the bootstrap stack's local backend: where its state lives for this target.
    backend_config: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.directory.name

    def init(self, *, backend: bool = True) -> None:
        args = ["init", "-input=false", "-no-color", "-reconfigure"]
        if backend:
            args += [f"-backend-config={key}={value}" for key, value in self.backend_config.items()]
        else:
            args.append("-backend=false")
        # Terraform re-links the shared plugin cache entry on every init, and two inits doing that
        # at once fail ("failed to create directory ... file exists"): one init at a time per
        # checkout, and a retry for inits of other tools racing with it.
        INIT_LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
        with INIT_LOCK_FILE.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for attempt in range(INIT_ATTEMPTS):
                try:
                    self._run(args, "init")
                    return
                except TerraformFailed as failure:
                    if "Failed to install provider" not in failure.excerpt or attempt == INIT_ATTEMPTS - 1:
                        raise
                    time.sleep(1 + attempt)

    def apply(self) -> None:
        self._run(["apply", "-auto-approve", "-input=false", "-no-color", f"-lock-timeout={LOCK_TIMEOUT}"], "apply")

    def destroy(self) -> None:
        self._run(["destroy", "-auto-approve", "-input=false", "-no-color", f"-lock-timeout={LOCK_TIMEOUT}"], "destroy")

    def plan(self, *, lock: bool = True) -> str:
        """A plan; returns its summary line ("Plan: 12 to add, 0 to change, 0 to destroy.")."""
        output = self._run(["plan", "-input=false", "-no-color", f"-lock={'true' if lock else 'false'}", f"-lock-timeout={LOCK_TIMEOUT}"], "plan")
        return next((line.strip() for line in output.splitlines() if line.startswith(("Plan:", "No changes."))), "")

    def validate(self) -> None:
        self._run(["validate", "-no-color"], "validate")

    def capture(self, *args: str) -> str:
        """A read-only command whose stdout is the answer (e.g. `providers schema -json`)."""
        result = subprocess.run(["terraform", *args], cwd=self.directory, env=self.env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise TerraformFailed(" ".join(args), self.log_dir, result.stderr[-4000:])
        return result.stdout

    def _run(self, args: list[str], label: str) -> str:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_file = self.log_dir / f"{self.name}.{label}.log"
        lines: list[str] = []
        started = time.monotonic()
        # Appended, one section per run and every line timed, so a slow step can be taken apart later
        # (benchmarks/e2e_waits.py reads these).
        with log_file.open("a") as log, subprocess.Popen(
            ["terraform", *args],
            cwd=self.directory,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        ) as process:
            assert process.stdout is not None
            log.write(f"{LOG_SECTION} terraform {' '.join(args)} at {datetime.now(UTC).isoformat(timespec='seconds')}\n")
            for line in process.stdout:
                log.write(f"{time.monotonic() - started:+8.1f}s {line}")
                lines.append(line)
                if self.verbose:
                    sys.stdout.write(f"    | {line}")
                    sys.stdout.flush()
        if process.returncode != 0:
            raise TerraformFailed(label, log_file, _error_excerpt(lines))
        return "".join(lines)


def _error_excerpt(lines: list[str]) -> str:
    """Terraform's error blocks (`Error: ...` with their context), or the tail of the output."""
    start = next((i for i, line in enumerate(lines) if "Error:" in line), None)
    chosen = lines[start:] if start is not None else lines[-ERROR_LINES_SHOWN:]
    return "".join(chosen[:ERROR_LINES_SHOWN]).rstrip()
