"""End to end on the local emulator: one environment deployed, partly rebuilt and torn down with real Terraform.

Driven through the documented commands (`python -m lifecycle ...`, what scripts/lifecycle.sh runs),
from the layer DAG rather than a list of resources, so it keeps working as the stacks grow. The
first network apply is killed hard half-way, as a vanished CI runner would leave it, and recovered
(lock, orphans, adoption) on the way to the full deploy. After `up` and after the rebuild every
layer must plan no change (a second plan is empty); one change made outside Terraform must be
found by `drift`, and be gone after a redeploy. "Nothing is left" after the teardown is
`lifecycle orphans`, whose search is first shown to see everything the deployed stacks hold.

    .venv/bin/pytest -m e2e          # about 20 minutes; scripts/test.sh runs it beside the default suite
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from config.environment_variables import read_environments
from config.targets import DeploymentTarget
from lifecycle.orphans import RULE_TYPES, identities_in_state, read_configs, scan_environment
from lifecycle.resource_kinds import Account, kind_of
from lifecycle.states import S3StateReader, StateSummary, state_key
from scripts import emulator
from stacks.layers import DEPLOY_ORDER, LAYER_DEPENDENCIES, Layer, stack_id

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = "dev"
REBUILT = (Layer.OBSERVABILITY, Layer.EDGE)
# The layer killed half-way: the cheapest to redeploy. Killed once its KMS alias exists, which the
# provider creates only after the key (13 s on the emulator), by when the VPC, its subnets, the NAT
# gateway and its Elastic IP, and the flow-log bucket exist too.
KILLED = Layer.NETWORK
KILLED_AFTER = "aws_kms_alias."
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
            [sys.executable, "-m", "lifecycle", *args, "--workdir", str(self.workdir), "--report", str(report)],
            cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=1800,
            env={**os.environ, **(env or {})},
        )
        output = result.stdout + result.stderr
        print(f"$ lifecycle {' '.join(args)}\n{output}")
        self.reports.append((" ".join(args), json.loads(report.read_text()) if report.exists() else []))
        return result.returncode, output

    def killed_during(self, *args: str, stack: str, after: str) -> dict[str, str]:
        """Run a lifecycle command and SIGKILL it, with every Terraform it started, as soon as Terraform has
        created a resource whose address starts with `after`; return what Terraform had created by then (address -> id)."""
        events_file = self.workdir / "logs" / f"{stack}.apply.jsonl"
        offset = events_file.stat().st_size if events_file.exists() else 0
        started = time.monotonic()
        command = [sys.executable, "-m", "lifecycle", *args, "--workdir", str(self.workdir)]
        with (self.workdir / "killed.out").open("w") as output:
            # A session of its own: Terraform runs in its own process group, but stays in the session.
            process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
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


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    workdir = tmp_path_factory.mktemp("lifecycle-e2e")
    run = Run(workdir)
    yield run
    emulator.stop(workdir)


def test_environment_lifecycle_end_to_end(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    # Step 0: the emulator and the state bucket inside it (its own state is local).
    run.lifecycle("emulator", "start")
    run.lifecycle("bootstrap", ENVIRONMENT)
    assert run.client("s3").head_bucket(Bucket=run.config.state.bucket)

    # What the account would already have (the hosted zone): created in the emulator.
    output = run.lifecycle("prerequisites", ENVIRONMENT, "--skip-synth")
    assert f"public Route 53 hosted zone {run.config.edge.hosted_zone_name}.: created" in output

    # Consumers plan before any producer exists, with placeholder upstream outputs.
    consumers = [layer for layer in DEPLOY_ORDER if LAYER_DEPENDENCIES[layer]]
    output = run.lifecycle("plan", ENVIRONMENT, *(layer.value for layer in consumers), "--mock-upstream", "--skip-synth")
    for layer in consumers:
        assert re.search(rf"{stack_id(layer, ENVIRONMENT)}\s+planned in [\d.]+ s \(Plan: [1-9]\d* to add", output), output
    assert all(run.state(layer) is None for layer in DEPLOY_ORDER), "a mocked plan must never write state"
    # ...but deploying a consumer before its producers is refused, naming them.
    refused = run.lifecycle("deploy", ENVIRONMENT, "compute", "--skip-synth", expect=3)
    assert "network-dev, data-dev" in refused

    # A run killed hard in the middle of the network's apply leaves a lock and orphans; both are recovered.
    leaked = _kill_and_recover(run)

    # The one command (the emulator, bootstrap and prerequisites are there already): every layer in DAG order.
    output = run.lifecycle("up", ENVIRONMENT, "--skip-synth")
    assert f"state bucket {run.config.state.bucket} exists: bootstrap already done" in output
    assert f"public Route 53 hosted zone {run.config.edge.hosted_zone_name}.: present" in output
    for index, layer in enumerate(DEPLOY_ORDER, start=1):
        assert f"[{index}/{len(DEPLOY_ORDER)}] {stack_id(layer, ENVIRONMENT)}" in output and "deployed in" in output
    # Progress inside a stack, from Terraform's -json events: heartbeats naming what runs, and the long waits.
    assert re.search(r"^    network-dev: \d+/\d+ resources, 0 errors, \d+ s; in progress: aws_\w+\.\S+ \(\d+ s\)", output, re.M), output
    assert re.search(r"^    network-dev: aws_s3_bucket_lifecycle_configuration\.\S+ created after 5\d s \(\d+/\d+\)$", output, re.M), output
    assert re.search(r"^    data-dev\s+deploy\s+done\s+[\d.]+ s\s+\d+\s+0\s+0\s+aws_\w+\.\S+ \(\d+ s\)$", output, re.M), output
    # Each layer's state is refreshed once its apply is done (beside the next layer's apply).
    for layer in DEPLOY_ORDER:
        assert re.search(rf"^{stack_id(layer, ENVIRONMENT)}\s+refreshed in [\d.]+ s", output, re.M), output
    # `up` created the compute layer, so it ran the schema migration task once (moto only starts it: no container runs).
    assert re.search(rf"^{stack_id(Layer.COMPUTE, ENVIRONMENT)}\s+migrate in [\d.]+ s \(task \S+\)$", output, re.M), output
    assert "not waiting: the emulator (moto) runs no container" in output
    states = {layer: run.state(layer) for layer in DEPLOY_ORDER}
    assert all(state is not None and state.deployed for state in states.values()), states
    _assert_everything_declared_was_deployed(run, states)
    _assert_cross_stack_values_arrived(states)
    _assert_the_orphans_were_adopted(run, output, leaked, states[KILLED])
    # The orphans search sees everything the layers deployed (so "none found" after the teardown means
    # none left), and finds no orphan in a deployed environment.
    _assert_the_orphan_search_sees_everything_deployed_and_no_orphan(run, states)
    # Drift: one alarm's threshold changed outside Terraform is found, named with its layer and
    # attribute, and nothing else (the other four layers are as `up` left them); deploying the
    # layer puts it back and the layer is clean again.
    drifted = _change_an_alarm_threshold_outside_terraform(run)
    report_file = run.workdir / "drift.json"
    output = run.lifecycle("drift", ENVIRONMENT, "--skip-synth", "--drift-report", str(report_file), expect=2)
    assert re.search(rf"^    observability-dev\s+drifted: {re.escape(drifted)} \(threshold\)$", output, re.M), output
    for layer in DEPLOY_ORDER[:-1]:
        assert re.search(rf"^    {stack_id(layer, ENVIRONMENT)}\s+clean$", output, re.M), output
    report = json.loads(report_file.read_text())
    assert [(layer["stack"], layer["status"]) for layer in report["layers"] if layer["status"] != "clean"] == [("observability-dev", "drifted")]
    run.lifecycle("deploy", ENVIRONMENT, "observability", "--skip-synth")
    output = run.lifecycle("drift", ENVIRONMENT, "observability", "--skip-synth")
    assert re.search(r"^    observability-dev\s+clean$", output, re.M), output
    states[Layer.OBSERVABILITY] = run.state(Layer.OBSERVABILITY)
    # Converged: a plan of every layer (side by side) changes nothing, right after `up` for four of
    # them and after its redeploy for observability. One round of plans instead of one before the
    # drift check and one after: each round reads every resource of the environment again.
    _assert_every_plan_is_empty(run, "after up")

    # Promotion ships the image (docs/lifecycle.md, "Release"): the compute layer deployed from stacks
    # synthesized with another image registers a new revision and leaves the service alone; `release`
    # runs the migration, then creates the CodeDeploy blue/green deployment of exactly that revision.
    _promote_and_release(run, "fraud-api@sha256:" + "5e" * 32)
    states[Layer.COMPUTE] = run.state(Layer.COMPUTE)

    # Teardown guard: the network cannot go while anything reads from it; nothing is touched.
    refused = run.lifecycle("destroy", ENVIRONMENT, "network", "--skip-synth", expect=3)
    for dependant in Layer:
        if dependant is not Layer.NETWORK:
            assert stack_id(dependant, ENVIRONMENT) in refused
    assert run.state(Layer.NETWORK).serial == states[Layer.NETWORK].serial

    # Rebuild the stateless top: observability and edge go and come back; what they read stays untouched.
    kept = {layer: states[layer] for layer in DEPLOY_ORDER if layer not in REBUILT}
    run.lifecycle("destroy", ENVIRONMENT, *(layer.value for layer in REBUILT), "--skip-synth")
    for layer in REBUILT:
        assert not run.state(layer).deployed, layer
    # ...through saved plans (docs/lifecycle.md, "Plan, review, apply"): edge's is real, observability's is for review
    # only (edge has no outputs yet), so the apply applies edge and refuses observability; the applied set is then stale.
    plans = run.workdir / "plans"
    run.lifecycle("plan", ENVIRONMENT, *(layer.value for layer in REBUILT), "--save", str(plans), "--skip-synth")
    summary = (plans / "summary.md").read_text()
    assert re.search(r"^\| edge-dev \| serial \d+ \| [1-9]\d* \| 0 \| 0 \|  \|$", summary, re.M), summary
    assert re.search(r"^\| observability-dev \| serial \d+ \| [1-9]\d* \| 0 \| 0 \| \*\*review only\*\*", summary, re.M), summary
    refused = run.lifecycle("apply", ENVIRONMENT, "--plans", str(plans), expect=3)
    assert re.search(r"edge-dev\s+applied in [\d.]+ s", refused) and "saved plan of observability-dev: it was planned for review only" in refused
    stale = run.lifecycle("apply", ENVIRONMENT, "--plans", str(plans), expect=3)
    assert re.search(r"saved plan of edge-dev: its state moved since the plan \(planned against serial (\d+), now serial (?!\1)\d+\)", stale), stale
    run.lifecycle("deploy", ENVIRONMENT, "observability", "--skip-synth")
    for layer in REBUILT:
        assert run.state(layer).deployed, layer
    for layer, before in kept.items():
        after = run.state(layer)
        assert (after.serial, after.lineage) == (before.serial, before.lineage), f"{layer.value} state changed"
    _assert_every_plan_is_empty(run, "after edge and observability were rebuilt")

    # Everything down, in reverse; every state stays, empty; the emulator holds nothing of dev.
    output = run.lifecycle("down", ENVIRONMENT, "--skip-synth")
    for layer in DEPLOY_ORDER:
        assert "destroyed in" in output
        state = run.state(layer)
        assert state is not None and state.managed_resources == 0, f"{layer.value}: {state}"
    assert "no orphans: everything of dev in the account is in its layers' states" in run.lifecycle("orphans", ENVIRONMENT, "--skip-synth")
    # Of kinds no layer declares (so `orphans` never looks for them), nothing tagged for dev either.
    leftovers = _tagged_for_the_environment(run)
    assert not leftovers, json.dumps(leftovers, indent=2, default=str)

    with capsys.disabled():
        _print_timings(run)


def _assert_every_plan_is_empty(run: Run, when: str) -> None:
    """A plan of every layer changes nothing; else fail naming the addresses and attributes it would change."""
    code, output = run.lifecycle_exit("plan", ENVIRONMENT, "--detailed-exitcode", "--skip-synth")
    marker = "==> what the plans change"
    changes = output[output.index(marker) : output.index("==> summary")] if marker in output else output
    assert code == 0, f"{when}, a plan is not empty (lifecycle plan exited {code}):\n{changes}"


def _promote_and_release(run: Run, image: str) -> None:
    before = run.state(Layer.COMPUTE).outputs["fraud_api_task_definition_arn"]
    run.lifecycle("deploy", ENVIRONMENT, "compute", env={"FRAUD_API_IMAGE": image})
    revision = run.state(Layer.COMPUTE).outputs["fraud_api_task_definition_arn"]
    assert revision != before, "a new image must register a new task-definition revision"
    service = _fraud_api_service(run)
    assert service["taskDefinition"] == before, "the apply must leave the running revision to CodeDeploy"

    output = run.lifecycle("release", ENVIRONMENT, "--image", image)
    created = re.search(r"deployment (\S+) created in (\S+)/(\S+)$", output, re.M)
    assert created, output
    assert "not waiting: the emulator (moto) keeps every CodeDeploy deployment at Created" in output
    # Read back from CodeDeploy: the deployment's AppSpec names the revision the compute layer registered.
    info = run.client("codedeploy").get_deployment(deploymentId=created[1])["deploymentInfo"]
    appspec = json.loads(info["revision"]["appSpecContent"]["content"])
    (resource,) = appspec["Resources"]
    assert next(iter(resource.values()))["Properties"]["TaskDefinition"] == revision, appspec
    assert (info["applicationName"], info["deploymentGroupName"]) == (created[2], created[3])


def _fraud_api_service(run: Run) -> dict[str, Any]:
    outputs = run.state(Layer.COMPUTE).outputs
    (service,) = run.client("ecs").describe_services(cluster=outputs["ecs_cluster_name"], services=[outputs["ecs_service_name"]])["services"]
    return service


def _change_an_alarm_threshold_outside_terraform(run: Run) -> str:
    """Raise one alarm's threshold with boto3, as someone in the console would; returns the alarm's address."""
    cloudwatch = run.client("cloudwatch")
    resource = next(
        resource for resource in run.state(Layer.OBSERVABILITY).resources
        if resource.get("type") == "aws_cloudwatch_metric_alarm" and resource["instances"][0]["attributes"].get("metric_name")
    )
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[resource["instances"][0]["attributes"]["alarm_name"]])["MetricAlarms"]
    kept = (
        "AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions", "MetricName",
        "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm",
        "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile",
    )
    cloudwatch.put_metric_alarm(
        **{key: alarm[key] for key in kept if alarm.get(key) is not None},
        Threshold=alarm["Threshold"] * 2 + 1,
        Tags=cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"],
    )
    return f"aws_cloudwatch_metric_alarm.{resource['name']}"


def _assert_everything_declared_was_deployed(run: Run, states: dict[Layer, StateSummary]) -> None:
    """Every resource a stack declares is in its state, but what config.targets.EMULATOR_GAPS leaves out (count = 0)."""
    for layer, state in states.items():
        config = json.loads((run.workdir / "cdktf.out" / "stacks" / stack_id(layer, ENVIRONMENT) / "cdk.tf.json").read_text())
        declared = {
            f"{resource_type}.{name}"
            for resource_type, instances in config.get("resource", {}).items()
            for name, body in instances.items()
            if body.get("count") != 0
        }
        deployed = {f"{r['type']}.{r['name']}" for r in state.resources if r.get("mode") == "managed" and r.get("instances")}
        assert declared == deployed, f"{layer.value}: declared but not deployed {sorted(declared - deployed)}, deployed but not declared {sorted(deployed - declared)}"


def _assert_cross_stack_values_arrived(states: dict[Layer, StateSummary]) -> None:
    """Every remote-state read of every consumer holds exactly what its producer exported."""
    for layer, state in states.items():
        reads = [resource for resource in state.resources if resource.get("type") == "terraform_remote_state"]
        assert len(reads) == len(LAYER_DEPENDENCIES[layer]), f"{layer.value} reads {len(reads)} states"
        for read in reads:
            attributes = read["instances"][0]["attributes"]
            producer = Layer(attributes["config"]["value"]["key"].split("/")[1].removesuffix(".tfstate"))
            assert producer in LAYER_DEPENDENCIES[layer], f"{layer.value} reads {producer.value}"
            received = attributes["outputs"]["value"]
            exported = states[producer].outputs
            assert received and all(received[name] == exported[name] for name in received), f"{layer.value} <- {producer.value}"

    # The compute layer runs in the network's subnets behind the network's security groups.
    network = states[Layer.NETWORK]
    subnets = {subnet["id"] for subnet in network.instances("aws_subnet")}
    groups = {group["id"] for group in network.instances("aws_security_group")}
    used_subnets, used_groups = set(), set()
    for resource in states[Layer.COMPUTE].resources:
        if resource.get("mode") != "managed":
            continue
        for instance in resource["instances"]:
            _collect(instance["attributes"], ("subnets", "subnet_ids"), used_subnets)
            _collect(instance["attributes"], ("security_groups", "security_group_ids"), used_groups)
    assert used_subnets and used_subnets <= subnets, used_subnets - subnets
    assert used_groups and used_groups <= groups, used_groups - groups


def _collect(value: Any, keys: tuple[str, ...], into: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in keys and isinstance(item, list):
                into.update(entry for entry in item if isinstance(entry, str))
            else:
                _collect(item, keys, into)
    elif isinstance(value, list):
        for item in value:
            _collect(item, keys, into)


def _kill_and_recover(run: Run) -> dict[str, str]:
    """Kill the network's first apply hard; then status shows the lock, unlock removes it, orphans lists what
    leaked and recover adopts or deletes it. Returns what the killed apply had created (address -> id)."""
    stack = stack_id(KILLED, ENVIRONMENT)
    created = run.killed_during("deploy", ENVIRONMENT, KILLED.value, "--skip-synth", stack=stack, after=KILLED_AFTER)
    assert any(address.startswith("aws_vpc.") for address in created) and any(address.startswith("aws_s3_bucket.") for address in created), created

    status = run.lifecycle("status", ENVIRONMENT, "--skip-synth")
    lock_id = re.search(rf"^{stack} .*\n +locked: held by \S+ for apply since .*, lock id ([0-9a-f-]+)$", status, re.M).group(1)
    assert f"unlock {ENVIRONMENT} {KILLED.value} --lock-id {lock_id}" in status
    run.lifecycle("unlock", ENVIRONMENT, KILLED.value, "--lock-id", lock_id, "--force", "--skip-synth")
    assert "locked:" not in run.lifecycle("status", ENVIRONMENT, "--skip-synth")

    # Everything the killed apply created that its state does not hold is listed under the network layer,
    # but a rule of an orphaned security group, which goes with its group.
    state = run.state(KILLED)
    held = {f"{r['type']}.{r['name']}" for r in (state.resources if state else ()) if r.get("mode") == "managed" and r.get("instances")}
    leaked = {
        address: identity for address, identity in created.items()
        if kind_of(address.split(".")[0]) and address not in held and address.split(".")[0] not in RULE_TYPES
    }
    orphans = run.lifecycle("orphans", ENVIRONMENT, "--skip-synth", expect=6)
    listed = orphans[orphans.index(f"{stack}:"):orphans.index(f"{stack_id(Layer.DATA, ENVIRONMENT)}:")]
    for address, identity in leaked.items():
        assert re.search(rf"^ +(adopt |delete) {re.escape(address)} +{re.escape(identity)}\b", listed, re.M), f"{address} {identity}:\n{listed}"
    adoptable = set(re.findall(r"^ +adopt +(\S+) ", listed, re.M))
    assert {address.split(".")[0] for address in adoptable} >= {"aws_s3_bucket", "aws_kms_alias", "aws_kms_key"}, listed
    anonymous = re.findall(r"^ +delete (\S+) ", listed, re.M)
    assert {address.split(".")[0] for address in anonymous} >= {"aws_vpc", "aws_subnet", "aws_nat_gateway", "aws_eip"}, listed

    recovered = run.lifecycle("recover", ENVIRONMENT, KILLED.value, "--delete-anonymous", "--skip-synth")
    imports = json.loads((run.workdir / "cdktf.out" / "stacks" / stack / "imports.tf.json").read_text())["import"]
    assert {block["to"] for block in imports} == adoptable
    assert recovered.count("      deleted ") == len(anonymous), recovered
    return {address: created[address] for address in adoptable if address in created}


def _assert_the_orphans_were_adopted(run: Run, output: str, adopted: dict[str, str], state: StateSummary) -> None:
    """The next apply imported what the killed one left (the very resources), and created no second VPC."""
    stack = stack_id(KILLED, ENVIRONMENT)
    assert re.search(rf"^    {stack}: this apply adopts {len(adopted)} orphans", output, re.M), output
    assert re.search(rf"^    {stack}: adopted {len(adopted)} orphans, imports.tf.json removed$", output, re.M), output
    held = {f"{r['type']}.{r['name']}": r["instances"][0]["attributes"]["id"] for r in state.resources if r.get("mode") == "managed"}
    assert {address: held.get(address) for address in adopted} == adopted
    vpcs = run.client("ec2").describe_vpcs(Filters=[{"Name": "tag:Environment", "Values": [ENVIRONMENT]}])["Vpcs"]
    assert [vpc["VpcId"] for vpc in vpcs] == [vpc["id"] for vpc in state.instances("aws_vpc")], "the killed apply's VPC is gone"
    # That it converged (an empty plan) is checked with every other layer's, right after.


def _assert_the_orphan_search_sees_everything_deployed_and_no_orphan(run: Run, states: dict[Layer, StateSummary]) -> None:
    """Every deployed resource of a kind `orphans` looks for is found by its search, by name or by tags, and
    everything it finds is in a state. One search for both (`orphans` itself runs after the teardown)."""
    identity = run.client("sts").get_caller_identity()
    account = Account(run, identity["Account"], run.config.region, "aws", ENVIRONMENT, run.config.project)
    live, scan = scan_environment(account, read_configs(run.workdir / "cdktf.out", ENVIRONMENT), states)
    found = set().union(*(resource.identities for resource in live))
    missed = [
        f"{resource['type']}.{resource['name']} {instance['attributes'].get('id')}"
        for state in states.values() for resource in state.resources
        if resource.get("mode") == "managed" and (kind := kind_of(resource["type"]))
        for instance in resource["instances"]
        if not {instance["attributes"].get("id"), instance["attributes"].get("arn"), kind.state_identity(instance["attributes"])} & found
    ]
    assert not missed and not scan.unchecked, (missed, scan.unchecked)
    held = identities_in_state(states)
    orphaned = [f"{resource.address} {resource.identity}" for resource in live if not resource.identities & held]
    assert not orphaned, orphaned


def _tagged_for_the_environment(run: Run) -> list[str]:
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


def _print_timings(run: Run) -> None:
    total = time.monotonic() - run.started
    print("\n\nlifecycle e2e timings (emulator)")
    for command, steps in run.reports:
        for step in steps:
            if step["outcome"] in ("done", "failed", "killed"):
                print(f"  {command.split()[0]:<10} {step['stack']:<22} {step['action']:<9} {step['outcome']:<7} {step['seconds']:7.1f} s")
    print(f"  e2e wall time: {total:.0f} s")
    (run.workdir / "e2e-timings.json").write_text(json.dumps({"wall_seconds": round(total, 1), "steps": run.reports}, indent=2))
