"""Synthesize the stacks for one target, and make sure a synth output is used only with its target."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from config.targets import DeploymentTarget
from lifecycle.emulator_adaptation import adapt_for_emulator, emulator_settings_in
from scripts.paths import REPO_ROOT

MARKER_FILE = "lifecycle-target.json"


class SynthMismatch(Exception):
    """A synth output made for another target (or another emulator) than the one asked for."""


def synthesize(target: DeploymentTarget, environments: list[str], outdir: Path, base_env: dict[str, str]) -> dict[str, list[str]]:
    """Run app.py for `target` into `outdir`; in the emulator, leave out what it cannot serve.

    Returns, per stack, the resource addresses left out (always empty for AWS).
    """
    env = {key: value for key, value in base_env.items() if key != "FRAUD_EMULATOR_ENDPOINT"}
    env.update({"CDKTF_OUTDIR": str(outdir), "FRAUD_TARGET": target.name, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"})
    if environments:
        env["FRAUD_ENVIRONMENTS"] = ",".join(environments)
    if target.is_emulator:
        env["FRAUD_EMULATOR_ENDPOINT"] = str(target.emulator_endpoint)
    result = subprocess.run([sys.executable, "app.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"synth failed (exit {result.returncode}):\n{_without_node_banner(result.stderr)[-4000:]}")
    left_out = {}
    for stack_dir in sorted((outdir / "stacks").iterdir()):
        config_file = stack_dir / "cdk.tf.json"
        config = json.loads(config_file.read_text())
        disabled = adapt_for_emulator(config) if target.is_emulator else []
        if disabled:
            config_file.write_text(json.dumps(config, indent=2))
        left_out[stack_dir.name] = disabled
    (outdir / MARKER_FILE).write_text(
        json.dumps({"target": target.name, "emulator_endpoint": target.emulator_endpoint, "left_out": left_out}, indent=2)
    )
    return left_out


def check_synth_matches(target: DeploymentTarget, outdir: Path, stacks: list[str]) -> None:
    """Refuse to run Terraform on a synth made for another target: an emulator synth never reaches AWS."""
    for stack in stacks:
        config_file = outdir / "stacks" / stack / "cdk.tf.json"
        if not config_file.exists():
            raise SynthMismatch(f"{config_file} does not exist; synthesize first (drop --skip-synth)")
        config = json.loads(config_file.read_text())
        emulator_only = emulator_settings_in(config)
        if not target.is_emulator and emulator_only:
            raise SynthMismatch(
                f"{stack} in {outdir} was synthesized for the emulator ({emulator_only[0]}); "
                "refusing to run it against AWS: synthesize with --target aws"
            )
        if target.is_emulator:
            if not emulator_only:
                raise SynthMismatch(f"{stack} in {outdir} was synthesized for real AWS; synthesize again for the emulator (drop --skip-synth)")
            # The provider reaches the emulator through the lifecycle's AWS_ENDPOINT_URL; the state
            # backend and the remote-state reads name it in the synth, and must name this one.
            endpoints = {endpoint or "real AWS" for endpoint in _state_endpoints(config) if endpoint != target.emulator_endpoint}
            if endpoints:
                raise SynthMismatch(
                    f"{stack} in {outdir} was synthesized for {' and '.join(sorted(endpoints))}, not the emulator at "
                    f"{target.emulator_endpoint}; synthesize again (drop --skip-synth)"
                )


def _state_endpoints(config: dict) -> list[str | None]:
    """The S3 endpoints of a stack's state backend and of its remote-state reads."""
    backends = [body for kind, body in config.get("terraform", {}).get("backend", {}).items() if kind == "s3"]
    reads = [read["config"] for read in config.get("data", {}).get("terraform_remote_state", {}).values() if read.get("backend") == "s3"]
    return [body.get("endpoints", {}).get("s3") for body in (*backends, *reads)]


def synthesized_images(outdir: Path, environment: str) -> list[str]:
    """The container images the environment's synthesized task definitions run (registry interpolations kept)."""
    images = []
    for config_file in sorted((outdir / "stacks").glob(f"*-{environment}/cdk.tf.json")):
        config = json.loads(config_file.read_text())
        for body in config.get("resource", {}).get("aws_ecs_task_definition", {}).values():
            images += [container["image"] for container in json.loads(body["container_definitions"])]
    return images


def _without_node_banner(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "!!" not in line)

