"""What the AWS provider's `endpoints` block costs per Terraform command, against the emulator.

    .venv/bin/python benchmarks/bench_provider_endpoints.py --runs 3

Starts an emulator of its own, and plans one small configuration (a caller-identity read, so
the provider must reach the emulator) two ways, alternating: the provider given the emulator
through an `endpoints` block naming each service the stacks call (how the emulator target was
configured before), and through `AWS_ENDPOINT_URL` (how it is now, config/targets.py). Prints
each way's wall and CPU seconds (Terraform and the provider processes it started).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.targets import DeploymentTarget  # noqa: E402
from scripts import emulator  # noqa: E402
from scripts.terraform_cli import terraform_env  # noqa: E402

# The services the stacks call, as the endpoints block named them.
SERVICES = (
    "acm", "apigateway", "appautoscaling", "cloudwatch", "codedeploy", "dynamodb", "ec2", "ecr", "ecs",
    "elbv2", "events", "iam", "kms", "lambda", "logs", "rds", "route53", "s3", "secretsmanager",
    "sns", "sqs", "ssm", "sts", "wafv2", "xray",
)


def configuration(target: DeploymentTarget, with_endpoints_block: bool) -> dict:
    provider = {"region": "us-east-1", **target.provider_settings()}
    if with_endpoints_block:
        provider["endpoints"] = [{service: target.emulator_endpoint for service in SERVICES}]
    return {
        "terraform": {"required_providers": {"aws": {"source": "aws", "version": "5.100.0"}}},
        "provider": {"aws": [provider]},
        "data": {"aws_caller_identity": {"current": {}}},
        "output": {"account": {"value": "${data.aws_caller_identity.current.account_id}"}},
    }


def timed_plan(directory: Path, env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run(["terraform", "plan", "-input=false", "-lock=false"], cwd=directory, env=env, check=True, capture_output=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-endpoints-") as scratch:
        root = Path(scratch)
        running = emulator.start(root / "emulator")
        try:
            target = DeploymentTarget(emulator_endpoint=running.endpoint)
            ways = {  # name -> (its directory, with the endpoints block, Terraform's environment)
                "endpoints block": (root / "endpoints-block", True, terraform_env()),
                "AWS_ENDPOINT_URL": (root / "endpoint-url", False, {**terraform_env(), **target.client_environment()}),
            }
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
            for directory, block, env in ways.values():
                directory.mkdir()
                (directory / "main.tf.json").write_text(json.dumps(configuration(target, block)))
                subprocess.run(["terraform", "init", "-input=false"], cwd=directory, env=env, check=True, capture_output=True)
            for _ in range(args.runs):
                for name, (directory, _, env) in ways.items():
                    results[name].append(timed_plan(directory, env))
        finally:
            emulator.stop(root / "emulator")
    print(f"terraform plan of one caller-identity read against the emulator, {args.runs} runs each, alternating")
    for name, runs in results.items():
        walls, cpus = [wall for wall, _ in runs], [cpu for _, cpu in runs]
        print(f"  {name:<17} wall {statistics.median(walls):5.1f} s  cpu {statistics.median(cpus):5.1f} s"
              f"  (wall {', '.join(f'{w:.1f}' for w in walls)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
