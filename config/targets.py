"""Where the stacks deploy: real AWS, or the local AWS emulator (moto's server).

Every emulator-only setting (endpoints, fake credentials, skipped account checks, path-style
S3, the resource types the emulator cannot serve) lives here and nowhere else, so a real-AWS
synth can never carry one of them. `tests/lifecycle/test_targets.py` synthesizes for both
targets and checks exactly that.

This module must stay importable without the cdktf bindings: app.py reads the target before it
pays for loading them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# Every AWS service the stacks call; the emulator serves them all on one endpoint.
EMULATED_SERVICES = (
    "acm", "apigateway", "appautoscaling", "cloudwatch", "codedeploy", "dynamodb", "ec2", "ecs",
    "elbv2", "events", "iam", "kms", "lambda", "logs", "rds", "route53", "s3", "secretsmanager",
    "sns", "sqs", "ssm", "sts", "wafv2", "xray",
)

# moto accepts any credentials; these exist only so the SDKs have something to sign with.
EMULATOR_ACCESS_KEY = "test"
EMULATOR_SECRET_KEY = "test"


@dataclass(frozen=True)
class EmulatorGap:
    """A resource type the emulator cannot create or destroy, and why.

    In an emulator synth every resource of the type gets `count = 0`: it stays declared (so
    `depends_on` and validation still see it) but is not created. A real-AWS synth is never
    touched. docs/lifecycle.md lists each gap with the rest of the coverage table.
    """

    resource_type: str
    reason: str
    # Left out only where the resource does not set this argument (None: always).
    only_without: str | None = None

    def applies_to(self, body: dict[str, Any]) -> bool:
        return self.only_without is None or self.only_without not in body


@dataclass(frozen=True)
class BucketPolicyStatementGap:
    """A kind of S3 bucket-policy statement the emulator cannot evaluate, and why.

    In an emulator synth such statements are dropped from the policy documents that S3 bucket
    policies use; a bucket policy left with no statement at all is left out (`count = 0`).
    """

    effect: str
    condition_variable: str
    reason: str


# The one list of what the emulator leaves out. Keep it short: every entry is something the
# end-to-end test does not exercise.
EMULATOR_GAPS: tuple[EmulatorGap, ...] = (
    # Empty: what moto 5.2.5 lacked for the stacks' resources (CodeDeploy delete/update, Application
    # Auto Scaling tags, X-Ray sampling rules and groups, the SQS redrive-allow policy, cancelling
    # managed rotation) is added to the emulator by scripts/moto_additions.py instead.
)
EMULATOR_BUCKET_POLICY_GAPS: tuple[BucketPolicyStatementGap, ...] = (
    BucketPolicyStatementGap(
        "Deny",
        "aws:SecureTransport",
        "moto checks a bucket policy's Deny statements on object reads and writes without the "
        "request's context, so every condition counts as met: the TLS-only Deny would refuse "
        "every object operation, Terraform's own state and lock files included",
    ),
)

# Keys in provider, backend and remote-state blocks that only the emulator needs.
_EMULATOR_ONLY_KEYS = frozenset({
    "endpoints", "access_key", "secret_key", "skip_credentials_validation", "skip_metadata_api_check",
    "skip_requesting_account_id", "skip_region_validation", "s3_use_path_style", "use_path_style",
    "force_path_style", "insecure",
})
_LOOPBACK = re.compile(r"https?://(127\.\d+\.\d+\.\d+|localhost|\[::1\])")


class EmulatorGapError(ValueError):
    """A resource left out of the emulator is referenced by value, so leaving it out would break the stack."""


@dataclass(frozen=True)
class DeploymentTarget:
    """Real AWS when `emulator_endpoint` is None, else the emulator listening there."""

    emulator_endpoint: str | None = None

    @property
    def is_emulator(self) -> bool:
        return self.emulator_endpoint is not None

    @property
    def name(self) -> str:
        return "emulator" if self.is_emulator else "aws"

    def provider_settings(self) -> dict[str, Any]:
        """Extra AwsProvider arguments for this target."""
        if not self.is_emulator:
            return {}
        return {
            "access_key": EMULATOR_ACCESS_KEY,
            "secret_key": EMULATOR_SECRET_KEY,
            "skip_credentials_validation": True,
            "skip_metadata_api_check": "true",
            # moto's STS answers GetCallerIdentity with its fixed account, which ARNs need.
            "skip_requesting_account_id": False,
            "s3_use_path_style": True,
            "endpoints": [{service: self.emulator_endpoint for service in EMULATED_SERVICES}],
        }

    def backend_settings(self) -> dict[str, Any]:
        """Extra S3Backend arguments for this target (remote-state reads reuse them)."""
        if not self.is_emulator:
            return {}
        return {
            "access_key": EMULATOR_ACCESS_KEY,
            "secret_key": EMULATOR_SECRET_KEY,
            "skip_credentials_validation": True,
            "skip_metadata_api_check": True,
            "skip_region_validation": True,
            "use_path_style": True,
            "endpoints": {"s3": self.emulator_endpoint, "sts": self.emulator_endpoint, "iam": self.emulator_endpoint},
        }

    def client_environment(self) -> dict[str, str]:
        """Process environment for AWS SDK clients (boto3, the AWS CLI) talking to this target.

        Empty for AWS: the usual credential chain (an OIDC role in CI, a profile locally) applies.
        """
        if not self.is_emulator:
            return {}
        return {
            "AWS_ACCESS_KEY_ID": EMULATOR_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": EMULATOR_SECRET_KEY,
            "AWS_ENDPOINT_URL": str(self.emulator_endpoint),
        }

    def adapt_synthesized_stack(self, config: dict[str, Any]) -> list[str]:
        """Leave out, in place, what this target cannot serve; return what was left out.

        A no-op for AWS: nothing is ever dropped from a real-AWS synth.
        """
        if not self.is_emulator:
            return []
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
