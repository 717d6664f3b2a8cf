"""Saved plans: what `plan --save DIR` writes, the summary a reviewer reads, and what `apply --plans DIR` checks.

    DIR/manifest.json              the environment, the target, the layers in DAG order, when
    DIR/summary.md                 per layer: add/change/destroy, the addresses created, updated, replaced, destroyed
    DIR/<stack>/tfplan             the binary plan (`terraform plan -out`); absent for a review-only plan
    DIR/<stack>/tfplan.json        `terraform show -json` of it
    DIR/<stack>/planned.json       what the apply checks: the state serial and lineage it was planned
                                   against, the synthesized config it was planned from, the upstream
                                   outputs it read (hashed), and why it is review-only, if it is

A consumer reads its producers' outputs through `terraform_remote_state` while it is planned: its
saved plan holds the values of that moment. When the producer's own plan changes one of those
outputs, the consumer's plan was computed from the old value, so the apply refuses it once the
producer is applied, asking for a new plan (docs/lifecycle.md, "Plan, review, apply").
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lifecycle.mock_upstream import remote_outputs_referenced
from lifecycle.states import StateSummary

PLAN_FILE = "tfplan"
PLAN_JSON = "tfplan.json"
RECORD_FILE = "planned.json"
MANIFEST_FILE = "manifest.json"
SUMMARY_FILE = "summary.md"
FORMAT = 1
# Address lists longer than this are folded in the summary; replacements and destructions never are.
FOLDED_AFTER = 10

# Terraform's `change.actions` -> what the summary calls it. Replacements count as one add and one destroy, as in Terraform's own summary.
KINDS = {
    ("create",): "created",
    ("update",): "updated",
    ("delete", "create"): "replaced",
    ("create", "delete"): "replaced",
    ("delete",): "destroyed",
    ("forget",): "forgotten",
}
NOT_A_CHANGE = {("no-op",), ("read",)}
SHOWN_KINDS = ("replaced", "destroyed", "updated", "created", "forgotten")
ALWAYS_UNFOLDED = ("replaced", "destroyed")


class SavedPlansError(ValueError):
    """A saved-plan directory that cannot be used as asked (wrong environment, not a plan directory)."""


@dataclass(frozen=True)
class StateVersion:
    """The state a plan was made against: Terraform refuses a saved plan once either moved."""

    serial: int
    lineage: str  # "" when there was no state object

    @classmethod
    def of(cls, state: StateSummary | None) -> StateVersion:
        return cls(0, "") if state is None else cls(state.serial, state.lineage)

    @classmethod
    def in_plan_file(cls, plan_file: Path) -> StateVersion:
        """The prior state a plan file carries (its `tfstate` member): exactly what Terraform compares."""
        try:
            with zipfile.ZipFile(plan_file) as archive:
                document = json.loads(archive.read("tfstate"))
        except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as error:
            raise SavedPlansError(f"{plan_file} is not a Terraform plan file ({error})") from None
        return cls(int(document.get("serial", 0)), str(document.get("lineage", "")))

    def describe(self, *, lineage: bool = False) -> str:
        if not self.lineage:
            return "no state"
        return f"serial {self.serial}" + (f" of lineage {self.lineage}" if lineage else "")


def staleness(planned: StateVersion, now: StateVersion) -> str | None:
    """None when the state is the one planned against; else both versions, the lineage when that is what differs."""
    if planned == now:
        return None
    lineage = bool(planned.lineage and now.lineage and planned.lineage != now.lineage)
    return f"planned against {planned.describe(lineage=lineage)}, now {now.describe(lineage=lineage)}"


@dataclass(frozen=True)
class ResourceChange:
    address: str
    kind: str  # created, updated, replaced, destroyed, forgotten (or Terraform's actions joined, for one it adds later)
    attributes: tuple[str, ...] = ()  # what changes (updated) or forces the replacement (replaced); never values

    def describe(self) -> str:
        if not self.attributes:
            return f"`{self.address}`"
        why = "forced by" if self.kind == "replaced" else "changing"
        return f"`{self.address}` ({why} {', '.join(self.attributes)})"


@dataclass(frozen=True)
class LayerPlan:
    """One layer's saved plan, as the apply checks it and the summary shows it."""

    layer: str
    stack: str
    state_key: str
    state: StateVersion
    config_sha256: str
    changes: tuple[ResourceChange, ...] = ()
    outputs_changed: tuple[str, ...] = ()
    # Upstream state key -> {output: sha256 of its value}: what the plan read through terraform_remote_state.
    reads: dict[str, dict[str, str]] = field(default_factory=dict)
    # Why this plan must not be applied (placeholders stood in for upstream outputs); "" for a real plan.
    review_only: str = ""
    terraform_version: str = ""

    @property
    def has_changes(self) -> bool:
        return bool(self.changes or self.outputs_changed)

    @property
    def counts(self) -> dict[str, int]:
        """add/change/destroy as Terraform counts them (a replacement is one add and one destroy)."""
        kinds = [change.kind for change in self.changes]
        return {
            "add": kinds.count("created") + kinds.count("replaced"),
            "change": kinds.count("updated"),
            "destroy": kinds.count("destroyed") + kinds.count("replaced"),
        }

    @property
    def plan_line(self) -> str:
        if not self.has_changes:
            return "No changes."
        if not self.changes:
            return f"Outputs change: {', '.join(self.outputs_changed)}."
        counts = self.counts
        return f"Plan: {counts['add']} to add, {counts['change']} to change, {counts['destroy']} to destroy."

    def addresses(self, kind: str) -> list[ResourceChange]:
        return [change for change in self.changes if change.kind == kind]

    @classmethod
    def from_plan_json(
        cls, plan: dict[str, Any], *, layer: str, stack: str, state_key: str, state: StateVersion, config_sha256: str, review_only: str = ""
    ) -> LayerPlan:
        return cls(
            layer=layer,
            stack=stack,
            state_key=state_key,
            state=state,
            config_sha256=config_sha256,
            changes=tuple(resource_changes(plan)),
            outputs_changed=tuple(sorted(name for name, change in plan.get("output_changes", {}).items() if tuple(change.get("actions", ())) != ("no-op",))),
            reads={} if review_only else upstream_reads(plan),
            review_only=review_only,
            terraform_version=str(plan.get("terraform_version", "")),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> LayerPlan:
        return cls(
            **{
                **document,
                "state": StateVersion(**document["state"]),
                "changes": tuple(ResourceChange(change["address"], change["kind"], tuple(change["attributes"])) for change in document["changes"]),
                "outputs_changed": tuple(document["outputs_changed"]),
            }
        )


def resource_changes(plan: dict[str, Any]) -> list[ResourceChange]:
    """Every resource the plan changes (no-ops and data reads left out), with the attributes involved."""
    found = []
    for entry in plan.get("resource_changes", []):
        change = entry.get("change", {})
        actions = tuple(change.get("actions", ()))
        if actions in NOT_A_CHANGE:
            continue
        kind = KINDS.get(actions, "+".join(actions))
        if kind == "replaced":
            attributes = _top_level(change.get("replace_paths") or [])
        elif kind == "updated":
            attributes = _changed_attributes(change)
        else:
            attributes = ()
        found.append(ResourceChange(entry["address"], kind, attributes))
    return found


def upstream_reads(plan: dict[str, Any]) -> dict[str, dict[str, str]]:
    """State key -> {output: hash of the value the plan read}, for every output the configuration references."""
    referenced = remote_outputs_referenced(plan.get("configuration", {}))
    reads: dict[str, dict[str, str]] = {}
    for resource in plan.get("prior_state", {}).get("values", {}).get("root_module", {}).get("resources", []):
        if resource.get("mode") != "data" or resource.get("type") != "terraform_remote_state":
            continue
        values = resource.get("values", {})
        key = values.get("config", {}).get("key")
        if values.get("backend") != "s3" or not key:
            continue
        outputs = values.get("outputs") or {}
        reads.setdefault(key, {}).update({output: value_hash(outputs.get(output)) for output in sorted(referenced.get(resource["name"], ()))})
    return reads


def value_hash(value: Any) -> str:
    """Values are compared, never stored: cross-stack outputs are sensitive."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def changed_reads(plan: LayerPlan, read_state: Callable[[str], StateSummary | None]) -> dict[str, list[str]]:
    """Upstream state key -> the outputs the plan read whose value is different now."""
    changed = {}
    for key, hashes in plan.reads.items():
        state = read_state(key)
        current = state.outputs if state is not None else {}
        differing = sorted(output for output, digest in hashes.items() if value_hash(current.get(output)) != digest)
        if differing:
            changed[key] = differing
    return changed


def outputs_changed_upstream(plan: LayerPlan, others: Iterable[LayerPlan]) -> dict[str, list[str]]:
    """Producer stack -> the outputs this plan read that the producer's saved plan changes."""
    found = {}
    for producer in others:
        read = plan.reads.get(producer.state_key, {})
        changed = sorted(set(read) & set(producer.outputs_changed))
        if changed:
            found[producer.stack] = changed
    return found


# --- the directory ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedPlans:
    directory: Path
    environment: str
    target: str
    planned_at: str
    layers: tuple[LayerPlan, ...]

    def plan_file(self, plan: LayerPlan) -> Path:
        return self.directory / plan.stack / PLAN_FILE


def prepare_directory(directory: Path, *, environment: str) -> None:
    """An empty directory to save into; earlier saved plans there are replaced, anything else is refused.

    The manifest is written first, marked incomplete, so an interrupted run leaves a directory that
    is known to be saved plans (replaced by the next run) and that no apply takes."""
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MANIFEST_FILE).exists():
            raise SavedPlansError(f"{directory} holds files that are not saved plans; save into an empty or new directory")
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MANIFEST_FILE).write_text(json.dumps({"format": FORMAT, "environment": environment, "complete": False}) + "\n")


def write_layer(directory: Path, plan: LayerPlan, plan_json: dict[str, Any]) -> None:
    layer_dir = directory / plan.stack
    layer_dir.mkdir(parents=True, exist_ok=True)
    (layer_dir / PLAN_JSON).write_text(json.dumps(plan_json))
    (layer_dir / RECORD_FILE).write_text(json.dumps(plan.to_json(), indent=2) + "\n")


def write_manifest(directory: Path, *, environment: str, target: str, planned_at: str, stacks: list[str], failed: list[str]) -> None:
    (directory / MANIFEST_FILE).write_text(json.dumps({
        "format": FORMAT, "environment": environment, "target": target, "planned_at": planned_at, "stacks": stacks, "failed": failed,
        "complete": not failed,
    }, indent=2) + "\n")


def read_directory(directory: Path, *, environment: str) -> SavedPlans:
    manifest_file = directory / MANIFEST_FILE
    if not manifest_file.exists():
        raise SavedPlansError(f"{directory} holds no saved plans ({MANIFEST_FILE} missing); make them with `plan {environment} --save {directory}`")
    manifest = json.loads(manifest_file.read_text())
    if manifest.get("format") != FORMAT:
        raise SavedPlansError(f"{directory} was saved in format {manifest.get('format')}, this lifecycle reads format {FORMAT}: plan again")
    if manifest["environment"] != environment:
        raise SavedPlansError(f"{directory} holds plans for {manifest['environment']}, not {environment}")
    if not manifest.get("complete"):
        why = f"the plan of {', '.join(manifest['failed'])} failed" if manifest.get("failed") else "the planning did not finish"
        raise SavedPlansError(f"{directory} is incomplete: {why}; plan again")
    layers = []
    for stack in manifest["stacks"]:
        record = directory / stack / RECORD_FILE
        if not record.exists():
            raise SavedPlansError(f"{record} is missing: {directory} is incomplete; plan again")
        layers.append(LayerPlan.from_json(json.loads(record.read_text())))
    return SavedPlans(directory, manifest["environment"], manifest["target"], manifest["planned_at"], tuple(layers))


# --- the summary --------------------------------------------------------------------------------


def render_summary(*, environment: str, where: str, planned_at: str, plans: list[LayerPlan], failed: list[str], directory: str) -> str:
    """The Markdown a reviewer reads (the workflow appends it to the job summary): no values, only addresses."""
    lines = [
        f"## Saved plans: {environment} on {where}",
        "",
        f"Planned at {planned_at}. `apply {environment} --plans {directory}` applies exactly these plans, in this order, "
        "skips a layer without changes, and refuses a layer whose state moved since it was planned.",
        "",
        "| layer | planned against | add | change | destroy | note |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    notes = {plan.stack: _note(plan, plans) for plan in plans}
    for plan in plans:
        counts = plan.counts
        lines.append(f"| {plan.stack} | {plan.state.describe()} | {counts['add']} | {counts['change']} | {counts['destroy']} | {notes[plan.stack]} |")
    for stack in failed:
        lines.append(f"| {stack} | | | | | **plan failed**: see the job's log |")
    for plan in plans:
        lines += ["", f"### {plan.stack}: {plan.plan_line}"]
        if notes[plan.stack]:
            lines += ["", notes[plan.stack]]
        for kind in SHOWN_KINDS:
            changes = plan.addresses(kind)
            if not changes:
                continue
            listed = [f"- {change.describe()}" for change in changes]
            if len(changes) > FOLDED_AFTER and kind not in ALWAYS_UNFOLDED:
                lines += ["", f"<details><summary><b>{kind}</b> ({len(changes)})</summary>", "", *listed, "", "</details>"]
            else:
                lines += ["", f"**{kind}** ({len(changes)})", "", *listed]
        if plan.outputs_changed:
            lines += ["", f"**outputs changed** ({len(plan.outputs_changed)}): {', '.join(f'`{name}`' for name in plan.outputs_changed)}"]
    return "\n".join(lines) + "\n"


def _note(plan: LayerPlan, plans: list[LayerPlan]) -> str:
    if plan.review_only:
        return f"**review only**, not applied: {plan.review_only}"
    upstream = outputs_changed_upstream(plan, [other for other in plans if other.stack != plan.stack])
    if upstream:
        changed = "; ".join(f"{stack}: {', '.join(outputs)}" for stack, outputs in upstream.items())
        return f"**needs a new plan** once {', '.join(upstream)} applied: it read outputs that plan changes ({changed})"
    return ""


def _changed_attributes(change: dict[str, Any]) -> tuple[str, ...]:
    before, after, unknown = change.get("before") or {}, change.get("after") or {}, change.get("after_unknown") or {}
    names = set(before) | set(after) | set(unknown)
    return tuple(sorted(name for name in names if before.get(name) != after.get(name) or unknown.get(name)))


def _top_level(paths: list[Any]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(path[0]) for path in paths if path))
