"""The live part of the output: what each running stack is doing right now.

On a terminal, one line per running stack is redrawn in place below the permanent output
(resources done / planned, errors, elapsed time, what is still in progress and for how long). In
CI (no terminal) nothing can be redrawn, so instead a line is printed when a resource that took
long finishes, and a heartbeat every 30 s names what is still running: a slow resource is told
apart from a hung run without reading the log.

Everything is driven by an explicit clock (`now`, seconds since the epoch, the same clock as the
`@timestamp` of Terraform's events), so the tests replay recorded streams at any speed.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import TextIO

from lifecycle.terraform_ui import FINISHED_VERB, ResourceTiming, TerraformRun

HEARTBEAT_SECONDS = 30.0
# A resource operation this long is worth a line of its own in CI: the provider's waiters
# (load balancers 60 s, S3 lifecycle rules 55 s, Aurora 30 s, SQS 25 s) and anything slower.
LONG_OPERATION_SECONDS = 20.0
SHOWN_IN_PROGRESS = 3
MIN_ADDRESS_SHOWN = 12
ELLIPSIS = "..."
# Erase the line above (cursor up one line, clear it).
ERASE_LINE_ABOVE = "\x1b[1A\x1b[2K"


def describe(run: TerraformRun | None, now: float, step_started: float, width: int | None = None) -> str:
    """`41/58 resources, 0 errors, 65 s; in progress: a (40 s), b (12 s)`, or the phase before the plan is known.

    Within `width`, fewer resources in progress are named, then the longest-running one's address is
    shortened in the middle: its elapsed time is what tells a slow resource from a hung run.
    """
    elapsed = f"{now - step_started:.0f} s"
    if run is None:
        return f"{elapsed}; waiting for terraform init"
    errors = len(run.errors)
    counts = f"{run.done}/{run.planned} resources, " if run.planned is not None else ""
    head = f"{counts}{errors} error{'' if errors == 1 else 's'}, {elapsed}"
    running = run.running(now)
    if not running:
        return f"{head}; {run.phase}"
    text = ""
    for shown in range(min(len(running), SHOWN_IN_PROGRESS), 0, -1):
        listed = ", ".join(f"{address} ({seconds:.0f} s)" for address, seconds in running[:shown])
        more = f" and {len(running) - shown} more" if len(running) > shown else ""
        text = f"{head}; in progress: {listed}{more}"
        if width is None or len(text) <= width:
            return text
    address = running[0][0]
    keep = max(MIN_ADDRESS_SHOWN, len(address) - (len(text) - width) - len(ELLIPSIS))
    return text.replace(address, address[: keep - keep // 2] + ELLIPSIS + address[len(address) - keep // 2 :], 1)


def finished_line(stack: str, run: TerraformRun, timing: ResourceTiming) -> str:
    verb = FINISHED_VERB.get(timing.action, timing.action) if timing.outcome == "done" else "FAILED"
    counts = f" ({run.done}/{run.planned})" if run.planned is not None else ""
    return f"    {stack}: {timing.address} {verb} after {timing.seconds:.0f} s{counts}"


@dataclass
class _LiveStep:
    stack: str
    label: str
    started: float
    run: TerraformRun | None = None
    last_heartbeat: float = 0.0


@dataclass
class LiveView:
    """Permanent lines, plus the live state of each running stack: redrawn on a terminal, heartbeats without one."""

    out: TextIO
    tty: bool
    width: int | None = None  # None: the terminal's, read at each redraw
    _steps: dict[str, _LiveStep] = field(default_factory=dict)
    _drawn: int = 0  # lines of the live block on screen
    _now: float = 0.0  # the clock at the latest call, for the elapsed times drawn

    def line(self, text: str) -> None:
        """A permanent line, above the live block."""
        self._erase()
        self.out.write(text + "\n")
        self._draw()

    def start(self, stack: str, label: str, now: float) -> None:
        self._now = now
        self._steps[stack] = _LiveStep(stack, label, now, last_heartbeat=now)
        self._redraw()

    def observe(self, stack: str, run: TerraformRun, finished: ResourceTiming | None, now: float) -> None:
        self._now = max(self._now, now)
        step = self._steps.get(stack)
        if step is None:
            return
        step.run = run
        if finished is not None and finished.seconds >= LONG_OPERATION_SECONDS and not self.tty:
            self.line(finished_line(stack, run, finished))
        else:
            self._redraw()

    def tick(self, now: float) -> None:
        self._now = max(self._now, now)
        if self.tty:
            self._redraw()
            return
        for step in self._steps.values():
            # Ticks come about once a second: the one that reaches 30 s, give or take a rounding.
            if now - step.last_heartbeat >= HEARTBEAT_SECONDS - 0.01:
                step.last_heartbeat = now
                self.line(f"    {step.stack}: {describe(step.run, now, step.started)}")

    def stop(self, stack: str) -> _LiveStep | None:
        step = self._steps.pop(stack, None)
        self._redraw()
        return step

    @property
    def running(self) -> bool:
        return bool(self._steps)

    # --- the terminal's live block ------------------------------------------------------------

    def _redraw(self) -> None:
        self._erase()
        self._draw()

    def _erase(self) -> None:
        if self.tty and self._drawn:
            self.out.write(ERASE_LINE_ABOVE * self._drawn)
            self._drawn = 0

    def _draw(self) -> None:
        if not self.tty:
            self.out.flush()
            return
        columns = (self.width or shutil.get_terminal_size().columns) - 1
        for step in self._steps.values():
            # Never wider than the terminal: a wrapped line would leave a stale copy behind on redraw.
            status = describe(step.run, self._now, step.started, width=columns - len(step.label) - 1)
            self.out.write(f"{step.label} {status}"[:columns] + "\n")
            self._drawn += 1
        self.out.flush()
