"""What the emulator end-to-end tests share: the lifecycle commands against one emulator, and what the account still holds.

Each end-to-end test starts its own emulator in its own workdir, so they run side by side
(scripts/test.sh) and none sees another's resources.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config.environment_variables import read_environments
from config.targets import DeploymentTarget
from lifecycle.states import S3StateReader, StateSummary, state_key
from scripts import emulator
from scripts.paths import REPO_ROOT
from stacks.layers import Layer

ENVIRONMENT = "dev"
KILL_TIMEOUT_SECONDS = 600


class Run:
    """The lifecycle commands against one emulator, with every step's report kept for the timing table."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.reports: list[tuple[str, list[dict[str, Any]]]] = []
        self.started = time.monotonic()
        # What the lifecycle itself will read (FRAUD_HOSTED_ZONE and friends may be set).
        (self.config,) = read_environments({**os.environ, "FRAUD_ENVIRONMENTS": ENVIRONMENT})

    def lifecycle(self, *args: str, expect: int = 0, env: dict[str, str] | None = None) -> str:
        code, output = self.lifecycle_exit(*args, env=env)
        assert code == expect, f"lifecycle {' '.join(args)} exited {code}, expected {expect}:\n{output}"
        return output

    def lifecycle_exit(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        """The command's exit code and output, for the caller to judge; `env` adds to the test's environment."""
        report = self.workdir / f"report-{len(self.reports)}.json"
        result = subprocess.run(
            self._command(args, report), cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=1800, env=_environment(env)
        )
        output = result.stdout + result.stderr
        print(f"$ lifecycle {' '.join(args)}\n{output}")
        self.reports.append((" ".join(args), json.loads(report.read_text()) if report.exists() else []))
        return result.returncode, output

    def in_background(self, *args: str) -> Callable[[], tuple[int, str]]:
        """Start a lifecycle command and go on; the returned call waits for it and gives its exit code and output."""
        report = self.workdir / f"report-{len(self.reports)}-background.json"
        output_file = self.workdir / f"{report.stem}.out"
        with output_file.open("w") as output:
            process = subprocess.Popen(self._command(args, report), cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT)
        entry = (" ".join(args), [])
        self.reports.append(entry)

        def finished() -> tuple[int, str]:
            code = process.wait(timeout=1800)
            text = output_file.read_text()
            print(f"$ lifecycle {' '.join(args)}  (in the background)\n{text}")
            if report.exists():
                entry[1].extend(json.loads(report.read_text()))
            return code, text

        return finished

    def killed_during(self, *args: str, stack: str, after: str, env: dict[str, str] | None = None) -> dict[str, str]:
        """Run a lifecycle command and SIGKILL it, with every Terraform it started, as soon as Terraform has
        created a resource whose address starts with `after`; return what Terraform had created by then (address -> id).
        `env` adds to the test's environment."""
        events_file = self.workdir / "logs" / f"{stack}.apply.jsonl"
        offset = events_file.stat().st_size if events_file.exists() else 0
        started = time.monotonic()
        with (self.workdir / "killed.out").open("w") as output:
            # A session of its own: Terraform runs in its own process group, but stays in the session.
            process = subprocess.Popen(
                self._command(args), cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, env=_environment(env)
            )
        created: dict[str, str] = {}
        deadline = time.monotonic() + KILL_TIMEOUT_SECONDS
        try:
            while not any(address.startswith(after) for address in created):
                assert time.monotonic() < deadline and process.poll() is None, (self.workdir / "killed.out").read_text()
                time.sleep(0.05)
                if events_file.exists():
                    with events_file.open() as events:
                        events.seek(offset)
                        lines = events.read().splitlines()
                    created = {
                        event["hook"]["resource"]["addr"]: event["hook"].get("id_value", "")
                        for event in map(json.loads, lines)
                        if event.get("type") == "apply_complete" and event["hook"].get("action") == "create"
                    }
        finally:
            for pid in _session(process.pid):
                os.kill(pid, signal.SIGKILL)
            process.wait(timeout=30)
        print(f"$ lifecycle {' '.join(args)}  (killed after {time.monotonic() - started:.1f} s, {len(created)} resources created)")
        self.reports.append((" ".join(args), [{"stack": stack, "action": "deploy", "outcome": "killed", "seconds": time.monotonic() - started}]))
        return created

    def _command(self, args: tuple[str, ...], report: Path | None = None) -> list[str]:
        """`python -m lifecycle <args>` in this run's workdir, keeping its `--report` in `report` when given."""
        return [sys.executable, "-m", "lifecycle", *args, "--workdir", str(self.workdir), *(["--report", str(report)] if report else [])]

    @property
    def target(self) -> DeploymentTarget:
        running = emulator.running(self.workdir)
        assert running, "the emulator stopped"
        return DeploymentTarget(emulator_endpoint=running.endpoint)

    def client(self, service: str) -> Any:
        from lifecycle.clients import TargetClients

        return TargetClients(self.target, self.config.region).client(service)

    def state(self, layer: Layer) -> StateSummary | None:
        return S3StateReader(self.config.state.bucket, self.client("s3")).read(state_key(ENVIRONMENT, layer))


def _environment(added: dict[str, str] | None) -> dict[str, str]:
    """The test's own environment with `added` on top."""
    return {**os.environ, **(added or {})}


def tagged_for_the_environment(run: Run) -> list[str]:
    """What the tagging index still holds tagged for dev and is live."""
    pages = run.client("resourcegroupstaggingapi").get_paginator("get_resources").paginate(TagFilters=[{"Key": "Environment", "Values": [ENVIRONMENT]}])
    return [mapping["ResourceARN"] for page in pages for mapping in page["ResourceTagMappingList"] if _still_there(run, mapping["ResourceARN"])]


def _session(leader: int) -> list[int]:
    """The processes of the session `leader` started (the lifecycle, every Terraform and provider it runs)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == leader:
                members.append(int(entry.name))
    return members


def _still_there(run: Run, arn: str) -> bool:
    """Whether a resource the tagging API lists is live; deleted ones linger there in moto."""
    resource = arn.split(":", 5)[5]
    if ":kms:" in arn:
        return run.client("kms").describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] not in ("PendingDeletion", "PendingReplicaDeletion")
    if resource.startswith("natgateway/"):
        (gateway,) = run.client("ec2").describe_nat_gateways(NatGatewayIds=[resource.split("/")[1]])["NatGateways"]
        return gateway["State"] not in ("deleted", "deleting")
    if ":ecs:" in arn and resource.startswith("cluster/"):
        return any(c["status"] == "ACTIVE" for c in run.client("ecs").describe_clusters(clusters=[arn])["clusters"])
    if ":ecs:" in arn and resource.startswith("service/"):
        _, cluster, service = resource.split("/")
        return any(s["status"] == "ACTIVE" for s in run.client("ecs").describe_services(cluster=cluster, services=[service])["services"])
    if ":ecs:" in arn and resource.startswith("task-definition/"):
        return run.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]["status"] == "ACTIVE"
    # Automated cluster snapshots go with the cluster on AWS (delete_automated_backups); moto keeps them.
    if resource.startswith("cluster-snapshot:rds:"):
        return False
    return True


def print_timings(run: Run) -> None:
    total = time.monotonic() - run.started
    print("\n\nlifecycle e2e timings (emulator)")
    for command, steps in run.reports:
        for step in steps:
            if step["outcome"] in ("done", "failed", "killed"):
                print(f"  {command.split()[0]:<10} {step['stack']:<22} {step['action']:<9} {step['outcome']:<7} {step['seconds']:7.1f} s")
    print(f"  e2e wall time: {total:.0f} s")
    (run.workdir / "e2e-timings.json").write_text(json.dumps({"wall_seconds": round(total, 1), "steps": run.reports}, indent=2))
