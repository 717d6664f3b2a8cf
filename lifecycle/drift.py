"""Drift: what changed in an environment outside Terraform, layer by layer (`lifecycle drift <env>`).

Every deployed layer is planned in refresh-only mode (`terraform plan -refresh-only`): Terraform
reads each resource from AWS and compares it with the state, never with the configuration, so
what it finds is exactly what was changed by hand, by another tool or by AWS itself since the
last apply. The plans only read (no state lock: the scheduled check runs with a role that cannot
write), so they run side by side. The result is printed per layer (resources and the attributes
that differ, sensitive values masked), written as JSON, and optionally as Markdown for a CI job
summary.

Exit codes: 0 no layer drifted, 2 a layer drifted, 1 the check itself failed (a plan failed,
bad usage, a guard refused); docs/lifecycle.md, "Drift".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lifecycle.changes import ResourceChange, StackPlan
from lifecycle.operations import Lifecycle, StackFailed
from stacks.layers import DEPLOY_ORDER, Layer

EXIT_CLEAN, EXIT_ERROR, EXIT_DRIFTED = 0, 1, 2
CLEAN, DRIFTED, NOT_DEPLOYED, FAILED = "clean", "drifted", "not deployed", "failed"


@dataclass(frozen=True)
class LayerDrift:
    layer: Layer
    stack: str
    status: str  # clean, drifted, not deployed, failed
    resources: tuple[ResourceChange, ...] = ()

    def as_report(self) -> dict[str, Any]:
        return {"layer": self.layer.value, "stack": self.stack, "status": self.status, "resources": [resource.as_report() for resource in self.resources]}


@dataclass(frozen=True)
class DriftReport:
    environment: str
    target: str
    checked_at: datetime
    layers: tuple[LayerDrift, ...]

    @property
    def drifted(self) -> list[LayerDrift]:
        return [layer for layer in self.layers if layer.status == DRIFTED]

    @property
    def failed(self) -> list[LayerDrift]:
        return [layer for layer in self.layers if layer.status == FAILED]

    @property
    def exit_code(self) -> int:
        return EXIT_ERROR if self.failed else EXIT_DRIFTED if self.drifted else EXIT_CLEAN

    def as_report(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "target": self.target,
            "checked_at": self.checked_at.isoformat(timespec="seconds"),
            "drifted": bool(self.drifted),
            "failed": [layer.stack for layer in self.failed],
            "layers": [layer.as_report() for layer in self.layers],
        }

    def lines(self) -> list[str]:
        """One line per layer: its status and, when it drifted, which resources and attributes."""
        lines = []
        for layer in self.layers:
            described = layer.status
            if layer.resources:
                described += ": " + "; ".join(_resource_summary(resource) for resource in layer.resources)
            lines.append(f"{layer.stack:<22} {described}")
        return lines

    def markdown(self) -> str:
        """The report for a CI job summary (GitHub's `$GITHUB_STEP_SUMMARY`)."""
        verdict = "drift found" if self.drifted else "the check failed" if self.failed else "no drift"
        lines = [
            f"### Drift in {self.environment} ({self.target}): {verdict}",
            f"Checked {self.checked_at:%Y-%m-%d %H:%M} UTC with refresh-only plans of every deployed layer.",
            "",
            "| layer | status | what changed outside Terraform |",
            "| --- | --- | --- |",
        ]
        for layer in self.layers:
            status = f"**{layer.status}**" if layer.status in (DRIFTED, FAILED) else layer.status
            lines.append(f"| {layer.stack} | {status} | {'<br>'.join(f'`{_resource_summary(resource)}`' for resource in layer.resources)} |")
        for layer in self.drifted:
            lines += ["", f"<details><summary>{layer.stack}: attributes that differ from the state</summary>", "", "```"]
            lines += [line for resource in layer.resources for line in resource.describe()]
            lines += ["```", "</details>"]
        return "\n".join(lines) + "\n"


def check_drift(lifecycle: Lifecycle, layers: list[Layer], *, now: datetime | None = None) -> DriftReport:
    """Plan every deployed layer of `layers` in refresh-only mode; a layer without resources is not deployed, so it cannot drift."""
    ordered = [layer for layer in DEPLOY_ORDER if layer in layers]
    deployed = [layer for layer in ordered if (state := lifecycle.state(layer)) is not None and state.deployed]
    plans: dict[str, StackPlan] = {}
    if deployed:
        try:
            plans = lifecycle.plan(deployed, mock_upstream=False, refresh_only=True)
        except StackFailed as failure:
            plans = failure.plans
    outcomes = []
    for layer in ordered:
        name = lifecycle.stack(layer)
        if layer not in deployed:
            outcomes.append(LayerDrift(layer, name, NOT_DEPLOYED))
        elif name not in plans:
            outcomes.append(LayerDrift(layer, name, FAILED))
        else:
            resources = plans[name].changes
            outcomes.append(LayerDrift(layer, name, DRIFTED if resources else CLEAN, resources))
    return DriftReport(lifecycle.environment.name, lifecycle.target.name, now or datetime.now(UTC), tuple(outcomes))


def write_report(report: DriftReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.as_report(), indent=2, default=str) + "\n")


def _resource_summary(resource: ResourceChange) -> str:
    if resource.action == "delete":
        return f"{resource.address} (deleted)"
    return f"{resource.address} ({', '.join(attribute.path for attribute in resource.attributes)})"
