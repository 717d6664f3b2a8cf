"""What the deploy and teardown commands print: which stack runs, what it is doing, how it ended, how long it took.

One permanent line when a stack starts (without a terminal) and one when it is done, failed or
interrupted; in between the live view (`lifecycle/live.py`) shows its resources. A failure shows
the failing resources and Terraform's diagnostics. The run ends with a table of every step, and
`--report` writes the same with each resource operation's timing.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from lifecycle.live import LiveView
from lifecycle.terraform_ui import ResourceTiming, TerraformRun

if TYPE_CHECKING:
    from lifecycle.terraform import TerraformFailed

FAILURE_LINES_SHOWN = 40
PAST_TENSE = {
    "deploy": "deployed", "apply": "applied", "destroy": "destroyed", "plan": "planned", "bootstrap": "bootstrapped",
    "unlock": "unlocked", "backup": "backed up",
}

Observer = Callable[[TerraformRun, ResourceTiming | None], None]


@dataclass
class StepResult:
    stack: str
    action: str
    outcome: str  # "done", "failed", "interrupted", "refused", "skipped"
    seconds: float
    detail: str = ""
    added: int | None = None
    changed: int | None = None
    destroyed: int | None = None  # for a plan: what it would add, change, destroy
    errors: int = 0
    slowest: dict[str, Any] | None = None  # {"address": ..., "seconds": ...}
    # The Terraform command of the step: when it started, how long it ran, every resource operation's timing.
    terraform: dict[str, Any] | None = None


@dataclass
class Progress:
    out: TextIO = field(default_factory=lambda: sys.stdout)
    tty: bool | None = None  # None: whether `out` is a terminal
    clock: Callable[[], float] = time.time
    tick_seconds: float | None = 1.0  # None: no ticker thread (tests call tick())
    width: int | None = None
    results: list[StepResult] = field(default_factory=list)
    # What a teardown left in place on purpose (lifecycle/teardown.py KeptResource), listed after the summary.
    kept: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.tty is None:
            self.tty = bool(getattr(self.out, "isatty", lambda: False)())
        self._live = LiveView(self.out, self.tty, self.width)
        # Re-entrant: a signal handler running on the main thread may print while it holds the lock.
        self._lock = threading.RLock()
        self._started: dict[str, float] = {}
        self._runs: dict[str, TerraformRun] = {}
        self._ticker: threading.Thread | None = None

    # --- permanent lines ----------------------------------------------------------------------

    def section(self, text: str) -> None:
        self._print(f"==> {text}")

    def note(self, text: str) -> None:
        self._print(f"    {text}")

    def echo(self, text: str) -> None:
        """A line of Terraform's own output (--verbose)."""
        self._print(f"    | {text}")

    # --- one step -----------------------------------------------------------------------------

    def start(self, stack: str, action: str, position: str = "") -> None:
        with self._lock:
            now = self.clock()
            self._started[stack] = now
            self._runs.pop(stack, None)
            if not self.tty:
                self._print(f"{position}{stack:<22} {action} ... running")
            self._live.start(stack, f"{position}{stack:<22} {action}", now)
            self._ensure_ticker()

    def watch(self, stack: str) -> Observer:
        """What a StackDirectory calls with each event of the step's Terraform command."""

        def observe(run: TerraformRun, finished: ResourceTiming | None) -> None:
            with self._lock:
                self._runs[stack] = run
                self._live.observe(stack, run, finished, self.clock())

        return observe

    def tick(self) -> None:
        with self._lock:
            self._live.tick(self.clock())

    def done(self, stack: str, action: str, position: str = "", detail: str = "") -> StepResult:
        with self._lock:
            result = self._finish(stack, action, "done", detail)
            self._print(f"{position}{stack:<22} {PAST_TENSE.get(action, action)} in {result.seconds:.1f} s{f' ({detail})' if detail else ''}")
            return result

    def failed(
        self, stack: str, action: str, position: str = "", failure: TerraformFailed | None = None, detail: str = ""
    ) -> StepResult:
        """The FAILED line, then the failing resources and Terraform's diagnostics (the caller adds the log path).

        `detail` says why a step that is not a Terraform run failed (a release, a smoke test)."""
        with self._lock:
            result = self._finish(stack, action, "failed", failure.excerpt if failure else detail)
            self._print(f"{position}{stack:<22} {action} FAILED after {result.seconds:.1f} s{f' ({detail})' if detail else ''}")
            for line in _failure_lines(failure)[:FAILURE_LINES_SHOWN]:
                self._print(f"      {line}".rstrip())
            return result

    def interrupted(self, stack: str, action: str, position: str = "") -> StepResult:
        with self._lock:
            run = self._runs.get(stack)
            result = self._finish(stack, action, "interrupted", "interrupted")
            self._print(f"{position}{stack:<22} {action} INTERRUPTED after {result.seconds:.1f} s")
            if run is not None and run.stopped_mid_operation:
                stopped = ", ".join(f"{timing.address} ({timing.action}, {timing.seconds:.0f} s)" for timing in run.stopped_mid_operation)
                self._print(f"      stopped mid-operation: {stopped}")
            return result

    def keep(self, item: Any) -> None:
        """Something the teardown left in place on purpose: said now, and again after the summary."""
        with self._lock:
            self.kept.append(item)
            self._print(f"    kept: {item.what} {item.name}")

    def skipped(self, stacks: list[str], action: str, why: str) -> None:
        for stack in stacks:
            self.results.append(StepResult(stack, action, "skipped", 0.0, why))
        if stacks:
            self._print(f"    not attempted ({why}): {', '.join(stacks)}")

    # --- the end of the run -------------------------------------------------------------------

    def summary(self) -> None:
        if not self.results:
            return
        self._print("==> summary")
        self._print(f"    {'layer':<22} {'action':<9} {'outcome':<11} {'duration':>9} {'added':>6} {'changed':>8} {'destroyed':>10}  slowest resource")
        for result in self.results:
            timed = result.outcome in ("done", "failed", "interrupted")
            duration = f"{result.seconds:7.1f} s" if timed else ""
            counts = [("" if count is None else str(count)) for count in (result.added, result.changed, result.destroyed)]
            slowest = f"{result.slowest['address']} ({result.slowest['seconds']:.0f} s)" if result.slowest else ""
            line = f"    {result.stack:<22} {result.action:<9} {result.outcome:<11} {duration:>9} {counts[0]:>6} {counts[1]:>8} {counts[2]:>10}  {slowest}"
            self._print(line.rstrip())
        if self.kept:
            # Last, so it is what an operator reads when the run ends, whether it succeeded or not.
            self._print("==> kept after this teardown, on purpose")
            for item in self.kept:
                for line in item.lines():
                    self._print(f"    {line}")

    def write_report(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([asdict(result) for result in self.results], indent=2))

    # --- helpers ------------------------------------------------------------------------------

    def _finish(self, stack: str, action: str, outcome: str, detail: str) -> StepResult:
        now = self.clock()
        seconds = now - self._started.pop(stack, now)
        self._live.stop(stack)
        run = self._runs.pop(stack, None)
        result = StepResult(stack, action, outcome, round(seconds, 1), detail)
        if run is not None:
            changes = run.changes
            result.added, result.changed, result.destroyed = changes.get("added"), changes.get("changed"), changes.get("destroyed")
            result.errors = len(run.errors)
            slowest = run.slowest
            result.slowest = {"address": slowest.address, "seconds": round(slowest.seconds, 1)} if slowest else None
            result.terraform = run.as_report()
        self.results.append(result)
        return result

    def _ensure_ticker(self) -> None:
        if self.tick_seconds is None or self._ticker is not None:
            return
        self._ticker = threading.Thread(target=self._tick_while_running, name="progress-ticker", daemon=True)
        self._ticker.start()

    def _tick_while_running(self) -> None:
        while True:
            time.sleep(self.tick_seconds or 1.0)
            with self._lock:
                if not self._live.running:
                    self._ticker = None
                    return
                self._live.tick(self.clock())

    def _print(self, line: str) -> None:
        with self._lock:
            self._live.line(line)


def _failure_lines(failure: TerraformFailed | None) -> list[str]:
    """The failing resources and Terraform's error diagnostics (summary and detail); else the output's error lines."""
    if failure is None:
        return []
    run = failure.run
    if run is None or not run.errors:
        return failure.excerpt.splitlines()
    lines: list[str] = []
    named = {diagnostic.address for diagnostic in run.errors if diagnostic.address}
    unnamed_failures = [address for address in run.failing_resources() if address not in named]
    if unnamed_failures:
        lines.append(f"failed: {', '.join(unnamed_failures)}")
    for diagnostic in run.errors:
        lines += diagnostic.describe()
    return lines
