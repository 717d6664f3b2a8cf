"""What the deploy and teardown commands print: which stack runs, is done or failed, and how long it took."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO


@dataclass
class StepResult:
    stack: str
    action: str
    outcome: str  # "done", "failed", "refused", "skipped"
    seconds: float
    detail: str = ""


@dataclass
class Progress:
    """Prints one line when a step starts and one when it ends, and keeps the results for a summary."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    results: list[StepResult] = field(default_factory=list)
    _started: dict[str, float] = field(default_factory=dict)

    def section(self, text: str) -> None:
        self._print(f"==> {text}")

    def note(self, text: str) -> None:
        self._print(f"    {text}")

    def start(self, stack: str, action: str, position: str = "") -> None:
        self._started[stack + action] = time.monotonic()
        self._print(f"{position}{stack:<22} {action} ... running")

    def done(self, stack: str, action: str, position: str = "", detail: str = "") -> StepResult:
        return self._finish(stack, action, "done", position, detail)

    def failed(self, stack: str, action: str, position: str = "", detail: str = "") -> StepResult:
        return self._finish(stack, action, "failed", position, detail)

    def refused(self, stack: str, action: str, reason: str) -> StepResult:
        result = StepResult(stack, action, "refused", 0.0, reason)
        self.results.append(result)
        self._print(f"{stack:<22} {action} REFUSED: {reason}")
        return result

    def skipped(self, stacks: list[str], action: str, why: str) -> None:
        for stack in stacks:
            self.results.append(StepResult(stack, action, "skipped", 0.0, why))
        if stacks:
            self._print(f"    not attempted ({why}): {', '.join(stacks)}")

    def summary(self) -> None:
        if not self.results:
            return
        self._print("==> summary")
        for result in self.results:
            seconds = f"{result.seconds:7.1f} s" if result.outcome in ("done", "failed") else " " * 9
            self._print(f"    {result.stack:<22} {result.action:<8} {result.outcome:<8} {seconds}")

    def write_report(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([asdict(result) for result in self.results], indent=2))

    def _finish(self, stack: str, action: str, outcome: str, position: str, detail: str) -> StepResult:
        seconds = time.monotonic() - self._started.pop(stack + action, time.monotonic())
        result = StepResult(stack, action, outcome, round(seconds, 1), detail)
        self.results.append(result)
        verb = {"deploy": "deployed", "destroy": "destroyed", "plan": "planned", "bootstrap": "bootstrapped"}.get(action, action)
        status = f"{verb} in {seconds:.1f} s" if outcome == "done" else f"{action} FAILED after {seconds:.1f} s"
        self._print(f"{position}{stack:<22} {status}{f' ({detail})' if detail and outcome == 'done' else ''}")
        return result

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)
