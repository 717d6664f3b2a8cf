"""Synthesized stacks made fit for the local emulator, and the check that an AWS synth carries none of it.

The gaps themselves are data in `config/targets.py` (what the emulator cannot serve and why);
this module applies them to the JSON a synth wrote. Only the lifecycle deploys to the emulator,
so only the lifecycle rewrites: a real-AWS synth is never touched.
"""

from __future__ import annotations

import json
import re
from typing import Any

from config.targets import EMULATOR_ACCESS_KEY, EMULATOR_BUCKET_POLICY_GAPS, EMULATOR_GAPS, BucketPolicyStatementGap

# Keys in provider, backend and remote-state blocks that only the emulator needs.
_EMULATOR_ONLY_KEYS = frozenset({
    "endpoints", "access_key", "secret_key", "skip_credentials_validation", "skip_metadata_api_check",
    "skip_requesting_account_id", "skip_region_validation", "s3_use_path_style", "use_path_style",
    "force_path_style", "insecure",
})
_LOOPBACK = re.compile(r"https?://(127\.\d+\.\d+\.\d+|localhost|\[::1\])")


class EmulatorGapError(ValueError):
    """A resource left out of the emulator is referenced by value, so leaving it out would break the stack."""


def adapt_for_emulator(config: dict[str, Any]) -> list[str]:
    """Leave out, in place, what the emulator cannot serve (config.targets.EMULATOR_GAPS); return what was left out."""
    resources = config.get("resource", {})
    disabled = [
        f"{gap.resource_type}.{name}"
        for gap in EMULATOR_GAPS
        for name, body in resources.get(gap.resource_type, {}).items()
        if gap.applies_to(body)
    ]
    emptied, dropped = _drop_bucket_policy_statements(config)
    disabled += emptied
    for address in disabled:
        resource_type, name = address.split(".", 1)
        body = resources[resource_type][name]
        body.pop("for_each", None)
        body["count"] = 0
    _replace_value_references(config, disabled)
    return disabled + dropped


def emulator_settings_in(config: dict[str, Any]) -> list[str]:
    """Where a synthesized stack carries an emulator-only setting (empty for a clean AWS synth)."""
    found: list[str] = []
    terraform = config.get("terraform", {})
    blocks: list[tuple[str, Any]] = [(f"provider.aws[{i}]", body) for i, body in enumerate(config.get("provider", {}).get("aws", []))]
    blocks += [(f"terraform.backend.{kind}", body) for kind, body in terraform.get("backend", {}).items()]
    blocks += [
        (f"data.terraform_remote_state.{name}.config", body.get("config", {}))
        for name, body in config.get("data", {}).get("terraform_remote_state", {}).items()
    ]
    for where, body in blocks:
        found += [f"{where}.{key}" for key in sorted(_EMULATOR_ONLY_KEYS & set(body))]
    if _LOOPBACK.search(json.dumps(config)):
        found.append("a loopback URL")
    if f'"{EMULATOR_ACCESS_KEY}"' in json.dumps(blocks):
        found.append(f"the emulator's access key '{EMULATOR_ACCESS_KEY}'")
    return found


def _drop_bucket_policy_statements(config: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Drop the statements the emulator cannot evaluate from bucket policies.

    Returns the bucket policies left with no statement (to leave out) and what was dropped.
    """
    documents = config.get("data", {}).get("aws_iam_policy_document", {})
    emptied, dropped = [], []
    for name, body in config.get("resource", {}).get("aws_s3_bucket_policy", {}).items():
        match = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}", str(body.get("policy", "")))
        if not match or match.group(1) not in documents:
            continue
        document = documents[match.group(1)]
        kept = []
        for statement in document.get("statement", []):
            if any(_matches(gap, statement) for gap in EMULATOR_BUCKET_POLICY_GAPS):
                dropped.append(f"data.aws_iam_policy_document.{match.group(1)} statement {statement.get('sid', '(no sid)')}")
            else:
                kept.append(statement)
        document["statement"] = kept
        if not kept:
            emptied.append(f"aws_s3_bucket_policy.{name}")
    return emptied, dropped


def _matches(gap: BucketPolicyStatementGap, statement: dict[str, Any]) -> bool:
    return statement.get("effect", "Allow") == gap.effect and any(
        condition.get("variable") == gap.condition_variable for condition in statement.get("condition", [])
    )


def _replace_value_references(config: dict[str, Any], disabled: list[str]) -> None:
    """`count = 0` keeps `depends_on` valid, but `${type.name.attr}` would need an index.

    A plain attribute read of a left-out resource becomes a visible placeholder string
    (`emulator-omitted:aws_codedeploy_app.name`); anything more (an index, a nested attribute)
    is refused, so nothing is silently changed in a way the stack could not survive.
    """
    if not disabled:
        return
    pattern = re.compile(r"\b(" + "|".join(re.escape(address) for address in disabled) + r")\.([A-Za-z0-9_]+)([\[.]?)")
    refused: list[str] = []

    def rewrite(value: Any, where: str) -> Any:
        if isinstance(value, dict):
            return {key: value[key] if key == "depends_on" else rewrite(value[key], where) for key in value}
        if isinstance(value, list):
            return [rewrite(item, where) for item in value]
        if not isinstance(value, str):
            return value

        def substitute(match: re.Match[str]) -> str:
            address, attribute, follower = match.groups()
            if follower:
                refused.append(f"{where} reads {match.group(0)}...")
                return match.group(0)
            return f'"emulator-omitted:{address.split(".")[0]}.{attribute}"'

        return pattern.sub(substitute, value)

    for section in ("resource", "data"):
        for kind, instances in config.get(section, {}).items():
            for name in instances:
                # Left-out resources too: Terraform checks every reference, even under count = 0.
                instances[name] = rewrite(instances[name], f"{section}.{kind}.{name}")
    for section in ("output", "locals"):
        for name in config.get(section, {}):
            config[section][name] = rewrite(config[section][name], f"{section}.{name}")
    if refused:
        raise EmulatorGapError(
            "resources left out of the emulator are read beyond a plain attribute: " + "; ".join(refused)
            + " (extend config.targets.EMULATOR_GAPS handling or reference them only through depends_on)"
        )
