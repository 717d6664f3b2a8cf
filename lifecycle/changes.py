"""What a saved plan changes, resource by resource and attribute by attribute.

Read from Terraform's JSON plan representation (`terraform show -json <plan>`): `resource_changes`
(what applying the plan would do, with each object before and after) and `resource_drift` (what
changed outside Terraform since the state was written: the refreshed object against the stored
one). Each change becomes the attribute paths whose values differ, sensitive values masked.

Two kinds of difference are representation, not change, and are left out: an unset value stored
as null on one side and read as its empty form on the other (the SDK the AWS provider is built on
writes unset lists, maps and strings as null at create and reads them back as `[]`, `{}`, `""`),
and two texts that are the same JSON document (policies and schemas the provider normalises).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SENSITIVE = "(sensitive value)"
KNOWN_AFTER_APPLY = "(known after apply)"
VALUE_WIDTH = 120
# Plan actions that change nothing.
UNCHANGED = (["no-op"], ["read"])


@dataclass(frozen=True)
class AttributeChange:
    path: str  # `threshold`, `ingress[0].description`, `tags.Environment`
    before: Any
    after: Any
    sensitive: bool = False
    unknown_after: bool = False

    def describe(self) -> str:
        return f"{self.path}: {self._render(self.before)} -> {KNOWN_AFTER_APPLY if self.unknown_after else self._render(self.after)}"

    def as_report(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "before": SENSITIVE if self.sensitive else self.before,
            "after": KNOWN_AFTER_APPLY if self.unknown_after else SENSITIVE if self.sensitive else self.after,
        }

    def _render(self, value: Any) -> str:
        if self.sensitive:
            return SENSITIVE
        text = json.dumps(value, sort_keys=True)
        return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


@dataclass(frozen=True)
class ResourceChange:
    address: str
    action: str  # create, update, replace, delete (a drift: update or delete)
    attributes: tuple[AttributeChange, ...] = ()
    # For a replacement: the attributes that force it.
    replaced_for: tuple[str, ...] = ()

    def describe(self) -> list[str]:
        """One line for the resource, then one per attribute."""
        why = f" (forced by {', '.join(self.replaced_for)})" if self.replaced_for else ""
        return [f"{self.address}: {self.action}{why}", *(f"  {attribute.describe()}" for attribute in self.attributes)]

    def as_report(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "action": self.action,
            "replaced_for": list(self.replaced_for),
            "attributes": [attribute.as_report() for attribute in self.attributes],
        }


def planned_changes(plan: dict[str, Any]) -> list[ResourceChange]:
    """What applying the plan would do, data-source reads and no-ops left out.

    Creates and deletes are named without their attributes (every attribute is new, or gone)."""
    changes = []
    for address, action, change in _changed_entries(plan.get("resource_changes")):
        attributes = tuple(_attribute_changes(change)) if action in ("update", "replace") else ()
        replaced_for = tuple(_path(list(path)) for path in change.get("replace_paths") or [])
        changes.append(ResourceChange(address, action, attributes, replaced_for))
    return changes


def drifted_resources(plan: dict[str, Any]) -> list[ResourceChange]:
    """What changed outside Terraform: resources whose refreshed object differs from the state, with
    the attributes that differ; a resource whose every difference is representation is left out."""
    drifted = []
    for address, action, change in _changed_entries(plan.get("resource_drift")):
        if action == "delete":
            drifted.append(ResourceChange(address, "delete"))
        elif attributes := tuple(_attribute_changes(change)):
            drifted.append(ResourceChange(address, action, attributes))
    return drifted


def _changed_entries(entries: list[dict[str, Any]] | None) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Managed resources the plan representation says change: address, action, the change itself."""
    for entry in entries or []:
        change = entry.get("change") or {}
        actions = change.get("actions") or []
        if actions not in UNCHANGED and entry.get("mode") != "data":
            yield entry["address"], _action(actions), change


def changed_outputs(plan: dict[str, Any]) -> list[str]:
    """Outputs whose value the plan changes."""
    return sorted(name for name, change in (plan.get("output_changes") or {}).items() if (change.get("actions") or []) not in UNCHANGED)


def _action(actions: list[str]) -> str:
    if sorted(actions) == ["create", "delete"]:
        return "replace"
    return actions[0] if len(actions) == 1 else "+".join(actions)


def _attribute_changes(change: dict[str, Any]) -> Iterator[AttributeChange]:
    before, after = change.get("before") or {}, change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    masks = (change.get("before_sensitive") or {}, change.get("after_sensitive") or {})
    for path, old, new in _differences(before, after, unknown, []):
        sensitive = any(_marked(mask, path) for mask in masks)
        yield AttributeChange(_path(path), old, new, sensitive=sensitive, unknown_after=_marked(unknown, path))


def _differences(before: Any, after: Any, unknown: Any, path: list[Any]) -> Iterator[tuple[list[Any], Any, Any]]:
    if unknown is True:
        yield path, before, None
        return
    if isinstance(before, dict) and isinstance(after, dict):
        unknown_keys = set(unknown) if isinstance(unknown, dict) else set()
        for key in sorted(set(before) | set(after) | unknown_keys):
            yield from _differences(before.get(key), after.get(key), unknown.get(key) if isinstance(unknown, dict) else None, [*path, key])
        return
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            item_unknown = unknown[index] if isinstance(unknown, list) and index < len(unknown) else None
            yield from _differences(old, new, item_unknown, [*path, index])
        return
    if not _equivalent(before, after):
        yield path, before, after


def _equivalent(before: Any, after: Any) -> bool:
    if before == after:
        return True
    # Unset stored as null on one side, read back as its empty form on the other.
    if before is None or after is None:
        return (after if before is None else before) in ("", [], {}, 0, False)
    if isinstance(before, str) and isinstance(after, str):
        return _same_json_document(before, after)
    return False


def _same_json_document(first: str, second: str) -> bool:
    if not first.lstrip().startswith(("{", "[")) or not second.lstrip().startswith(("{", "[")):
        return False
    try:
        return json.loads(first) == json.loads(second)
    except ValueError:
        return False


def _marked(mask: Any, path: list[Any]) -> bool:
    """Whether `mask` (Terraform's sensitive or unknown marks, shaped like the value) marks the path or a parent."""
    for step in path:
        if mask is True:
            return True
        if isinstance(mask, dict):
            mask = mask.get(step)
        elif isinstance(mask, list) and isinstance(step, int) and step < len(mask):
            mask = mask[step]
        else:
            return False
    return mask is True


def _path(steps: list[Any]) -> str:
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


@dataclass(frozen=True)
class StackPlan:
    """One stack's plan: Terraform's summary line and what the plan changes; for a refresh-only
    plan, what changed outside Terraform."""

    summary: str
    changes: tuple[ResourceChange, ...] = ()
    outputs: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        return bool(self.changes or self.outputs)

    def describe(self) -> list[str]:
        lines = [line for change in self.changes for line in change.describe()]
        return lines + ([f"outputs that change: {', '.join(self.outputs)}"] if self.outputs else [])

    def as_report(self) -> dict[str, Any]:
        return {"summary": self.summary, "resources": [change.as_report() for change in self.changes], "outputs": list(self.outputs)}
