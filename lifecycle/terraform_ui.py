"""Terraform's machine-readable UI (`-json`), read event by event into what one Terraform command is doing.

Terraform documents the stream ("Machine-readable UI"): one JSON object per line, each with
`type`, `@message` (the line the human UI would print) and `@timestamp`. The ones that matter
here: `planned_change` and `change_summary` (what the plan holds, and at the end what was done),
`apply_start` / `apply_progress` / `apply_complete` / `apply_errored` (a resource operation's
life, `hook.resource.addr` and `hook.action`), `refresh_start`, `resource_drift` (a resource that
changed outside Terraform), `outputs` (in a plan, each output's planned action), `diagnostic`
(errors and warnings, with the resource `address` when Terraform knows it) and `log` (e.g. the
interrupt notice). Anything else is kept for the log and otherwise ignored, so a newer Terraform that adds
types reads the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# `hook.action` of a finished operation -> the counter it adds to.
COUNTED_AS = {"create": "added", "update": "changed", "delete": "destroyed"}
# Past tense of an operation, for "created in 55 s".
FINISHED_VERB = {"create": "created", "update": "updated", "delete": "destroyed", "read": "read"}
INTERRUPT_NOTICE = "Interrupt received"
LOCK_ERROR_SUMMARY = "Error acquiring the state lock"


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    summary: str
    detail: str = ""
    address: str | None = None

    def describe(self) -> list[str]:
        """The lines a person needs: which resource, what failed, Terraform's explanation."""
        head = f"{self.address}: {self.summary}" if self.address else self.summary
        return [head, *(f"  {line}".rstrip() for line in self.detail.rstrip().splitlines())]


@dataclass(frozen=True)
class UiEvent:
    type: str
    at: float  # seconds since the epoch, from @timestamp
    message: str
    level: str = "info"
    address: str | None = None
    action: str | None = None
    diagnostic: Diagnostic | None = None
    changes: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None

    def log_text(self) -> str:
        """The event as the human UI would have printed it (diagnostics with their detail)."""
        if self.diagnostic is not None:
            prefix = "Error" if self.diagnostic.severity == "error" else "Warning"
            lines = [f"{prefix}: {self.diagnostic.summary}"]
            if self.diagnostic.address:
                lines.append(f"  with {self.diagnostic.address}")
            if self.diagnostic.detail:
                lines += ["", *self.diagnostic.detail.rstrip().splitlines()]
            return "\n".join(lines)
        return self.message.strip("\n")


def parse_event(line: str) -> UiEvent | None:
    """One line of `terraform ... -json` output; None for anything else (stderr text, CLI warnings)."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(document, dict) or "type" not in document:
        return None
    hook = document.get("hook") or document.get("change") or {}
    resource = hook.get("resource") or {}
    raw_diagnostic = document.get("diagnostic")
    diagnostic = None
    if isinstance(raw_diagnostic, dict):
        diagnostic = Diagnostic(
            severity=str(raw_diagnostic.get("severity", "error")),
            summary=str(raw_diagnostic.get("summary", "")),
            detail=str(raw_diagnostic.get("detail", "")),
            address=raw_diagnostic.get("address"),
        )
    return UiEvent(
        type=str(document["type"]),
        at=_epoch(document.get("@timestamp")),
        message=str(document.get("@message", "")),
        level=str(document.get("@level", "info")),
        address=resource.get("addr"),
        action=hook.get("action"),
        diagnostic=diagnostic,
        changes=document.get("changes"),
        outputs=document.get("outputs") if isinstance(document.get("outputs"), dict) else None,
    )


@dataclass(frozen=True)
class ResourceTiming:
    """One resource operation: when it started (seconds after Terraform started) and how long it took."""

    address: str
    action: str
    outcome: str  # "done", "failed"
    started: float
    seconds: float

    @property
    def counted(self) -> bool:
        """Reads of data sources are not changes."""
        return self.action != "read"

    def as_report(self) -> dict[str, Any]:
        return {"address": self.address, "action": self.action, "outcome": self.outcome,
                "started": round(self.started, 1), "seconds": round(self.seconds, 1)}


@dataclass
class TerraformRun:
    """What one `terraform plan/apply/destroy -json` has done so far, fed one event at a time."""

    command: str
    started_at: float  # seconds since the epoch; Terraform's first event once there is one
    phase: str = "starting Terraform"
    planned: int | None = None  # operations the plan holds (replacements count twice: delete and create)
    planned_changes: dict[str, int] = field(default_factory=dict)  # the plan's add/change/destroy
    applied: dict[str, int] | None = None  # the final change summary, when Terraform printed one
    in_progress: dict[str, tuple[str, float]] = field(default_factory=dict)  # address -> (action, started at)
    finished: list[ResourceTiming] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    interrupted_at: float | None = None
    stopped_mid_operation: list[ResourceTiming] = field(default_factory=list)
    ended_at: float | None = None
    last_event_at: float | None = None
    # A plan's resource changes (address -> create, update, replace, delete, read...), what changed
    # outside Terraform since the last apply (address -> update, delete) and the outputs it changes.
    planned_actions: dict[str, str] = field(default_factory=dict)
    drifted: dict[str, str] = field(default_factory=dict)
    changed_outputs: dict[str, str] = field(default_factory=dict)

    def feed(self, event: UiEvent) -> ResourceTiming | None:
        """Take in one event; returns the operation it finished, if it finished one."""
        if self.last_event_at is None and event.at:
            # Terraform prints its version as it starts: from here on, times are on its clock.
            self.started_at = event.at
        self.last_event_at = event.at
        kind = event.type
        if kind == "state_lock_acquire":
            # Terraform says so only when the lock is not free at once: another run holds it.
            self.phase = "acquiring the state lock"
        elif kind in ("refresh_start", "refresh_complete"):
            self.phase = "refreshing the state"
        elif kind in ("planned_change", "resource_drift"):
            self.phase = "planning"
            if event.address and event.action:
                (self.planned_actions if kind == "planned_change" else self.drifted)[event.address] = event.action
        elif kind == "outputs" and event.outputs:
            # A plan names each output's action; an apply prints the values instead.
            self.changed_outputs.update({
                name: output["action"] for name, output in event.outputs.items()
                if isinstance(output, dict) and output.get("action") not in (None, "noop")
            })
        elif kind == "change_summary":
            self._summary(event)
        elif kind == "apply_start" and event.address:
            self.in_progress[event.address] = (event.action or "", event.at)
            self.phase = "applying" if self.command != "plan" else "reading data sources"
        elif kind in ("apply_complete", "apply_errored") and event.address:
            return self._finish(event, "done" if kind == "apply_complete" else "failed")
        elif kind == "diagnostic" and event.diagnostic is not None:
            self.diagnostics.append(event.diagnostic)
        elif kind == "log" and INTERRUPT_NOTICE in event.message:
            self.interrupted_at = event.at
            self.phase = "stopping (interrupted)"
        return None

    def _summary(self, event: UiEvent) -> None:
        changes = event.changes or {}
        counts = {"added": int(changes.get("add", 0)), "changed": int(changes.get("change", 0)), "destroyed": int(changes.get("remove", 0))}
        if changes.get("operation") == "plan":
            self.planned_changes = counts
            self.planned = sum(counts.values())
            self.phase = "planned" if self.command == "plan" else "applying"
        else:
            self.applied = counts
            self.phase = "writing the state"

    def _finish(self, event: UiEvent, outcome: str) -> ResourceTiming:
        action, started_at = self.in_progress.pop(event.address or "", (event.action or "", event.at))
        timing = ResourceTiming(event.address or "", action, outcome, started_at - self.started_at, event.at - started_at)
        self.finished.append(timing)
        if outcome == "failed" and self.interrupted_at is not None and event.at >= self.interrupted_at:
            self.stopped_mid_operation.append(timing)
        return timing

    # --- what it amounts to -------------------------------------------------------------------

    @property
    def done(self) -> int:
        return sum(1 for timing in self.finished if timing.counted and timing.outcome == "done")

    @property
    def errors(self) -> list[Diagnostic]:
        return _unique([diagnostic for diagnostic in self.diagnostics if diagnostic.severity == "error"])

    @property
    def changes(self) -> dict[str, int]:
        """Added/changed/destroyed: the final summary, or what finished before a failure; for a plan, what it plans."""
        if self.command == "plan":
            return dict(self.planned_changes)
        if self.applied is not None:
            return dict(self.applied)
        counts = {"added": 0, "changed": 0, "destroyed": 0}
        for timing in self.finished:
            if timing.outcome == "done" and timing.action in COUNTED_AS:
                counts[COUNTED_AS[timing.action]] += 1
        return counts

    @property
    def slowest(self) -> ResourceTiming | None:
        counted = [timing for timing in self.finished if timing.counted]
        return max(counted, key=lambda timing: timing.seconds, default=None)

    @property
    def plan_line(self) -> str:
        """The plan's summary as Terraform's human UI says it."""
        if self.planned is None:
            return ""
        if self.planned == 0:
            return "No changes."
        changes = self.planned_changes
        return f"Plan: {changes['added']} to add, {changes['changed']} to change, {changes['destroyed']} to destroy."

    @property
    def resource_changes(self) -> dict[str, str]:
        """What the plan changes, by address: every planned action but no-ops and data-source reads."""
        return {address: action for address, action in self.planned_actions.items() if action not in ("noop", "read")}

    def running(self, now: float) -> list[tuple[str, float]]:
        """What is in progress, longest-running first, with its elapsed seconds."""
        ordered = sorted(self.in_progress.items(), key=lambda item: item[1][1])
        return [(address, now - started_at) for address, (_, started_at) in ordered]

    def failing_resources(self) -> list[str]:
        """Addresses named by the error diagnostics, else the operations that errored."""
        named = [diagnostic.address for diagnostic in self.errors if diagnostic.address]
        return _unique(named) or _unique([timing.address for timing in self.finished if timing.outcome == "failed"])

    def hit_lock(self) -> bool:
        return any(diagnostic.summary == LOCK_ERROR_SUMMARY for diagnostic in self.errors)

    def as_report(self) -> dict[str, Any]:
        ended = self.ended_at if self.ended_at is not None else (self.last_event_at or self.started_at)
        return {
            "command": self.command,
            "started_at": datetime.fromtimestamp(self.started_at, UTC).isoformat(timespec="seconds"),
            "seconds": round(ended - self.started_at, 1),
            "resources": [timing.as_report() for timing in self.finished],
        }


def _unique(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def _epoch(timestamp: Any) -> float:
    if not isinstance(timestamp, str):
        return 0.0
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0
