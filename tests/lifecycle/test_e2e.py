"""End to end on the local emulator: one environment deployed, partly rebuilt and torn down with real Terraform.

Driven through the documented commands (`python -m lifecycle ...`, what scripts/lifecycle.sh runs),
from the layer DAG rather than a list of resources, so it keeps working as the stacks grow. After
`up` and after the rebuild every layer must plan no change (a second plan is empty); one change
made outside Terraform must be found by `drift`, and be gone after a redeploy; a promoted image
reaches CodeDeploy. "Nothing is left" after the teardown is `lifecycle orphans`, whose search is
first shown to see everything the deployed stacks hold. A first deploy killed half-way, and plans
made before any producer exists, are test_e2e_first_deploy.py's, on an emulator of its own.

    .venv/bin/pytest -m e2e          # both, one after the other; scripts/test.sh runs them side by side
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from lifecycle.orphans import identities_in_state, read_configs, scan_environment
from lifecycle.resource_kinds import Account, kind_of
from lifecycle.states import StateSummary
from stacks.layers import DEPLOY_ORDER, LAYER_DEPENDENCIES, Layer, stack_id
from tests.lifecycle.emulator_run import ENVIRONMENT, Run, print_timings, tagged_for_the_environment

pytestmark = pytest.mark.e2e

REBUILT = (Layer.OBSERVABILITY, Layer.EDGE)


def test_environment_lifecycle_end_to_end(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    # Step 0: the emulator and the state bucket inside it (its own state is local).
    run.lifecycle("emulator", "start")
    run.lifecycle("bootstrap", ENVIRONMENT)
    assert run.client("s3").head_bucket(Bucket=run.config.state.bucket)

    # What the account would already have (the hosted zone): created in the emulator.
    output = run.lifecycle("prerequisites", ENVIRONMENT, "--skip-synth")
    assert f"public Route 53 hosted zone {run.config.edge.hosted_zone_name}.: created" in output

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
    # Drift: one alarm's threshold changed outside Terraform is found, named with its layer and
    # attribute, and nothing else (the other four layers are as `up` left them); deploying the
    # layer puts it back and the layer is clean again.
    drifted = _change_an_alarm_threshold_outside_terraform(run)
    report_file = run.workdir / "drift.json"
    drift_check = run.in_background("drift", ENVIRONMENT, "--skip-synth", "--drift-report", str(report_file))
    # Meanwhile (both only read): the orphans search sees everything the layers deployed (so "none
    # found" after the teardown means none left), and finds no orphan in a deployed environment.
    _assert_the_orphan_search_sees_everything_deployed_and_no_orphan(run, states)
    code, output = drift_check()
    assert code == 2, f"drift exited {code}, expected 2:\n{output}"
    assert re.search(rf"^    observability-dev\s+drifted: {re.escape(drifted)} \(threshold\)$", output, re.M), output
    for layer in DEPLOY_ORDER[:-1]:
        assert re.search(rf"^    {stack_id(layer, ENVIRONMENT)}\s+clean$", output, re.M), output
    report = json.loads(report_file.read_text())
    assert [(layer["stack"], layer["status"]) for layer in report["layers"] if layer["status"] != "clean"] == [("observability-dev", "drifted")]
    # Converged: a plan of every layer changes nothing, right after `up` for the four that were not
    # drifted (planned while observability is redeployed: its apply touches nothing of theirs) and
    # after its redeploy for observability.
    untouched = [layer.value for layer in DEPLOY_ORDER if layer is not Layer.OBSERVABILITY]
    untouched_plans = run.in_background("plan", ENVIRONMENT, *untouched, "--detailed-exitcode", "--skip-synth")
    run.lifecycle("deploy", ENVIRONMENT, "observability", "--skip-synth")
    output = run.lifecycle("drift", ENVIRONMENT, "observability", "--skip-synth")
    assert re.search(r"^    observability-dev\s+clean$", output, re.M), output
    states[Layer.OBSERVABILITY] = run.state(Layer.OBSERVABILITY)
    _assert_the_plans_are_empty(*untouched_plans(), "after up")
    _assert_the_plans_are_empty(*run.lifecycle_exit("plan", ENVIRONMENT, "observability", "--detailed-exitcode", "--skip-synth"), "after the drift was repaired")

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
    # Edge is back: it and what it reads are planned again (an apply of edge must change nothing of
    # theirs, and edge must converge), while the rest of the rebuild goes on (observability's apply
    # touches nothing of theirs either).
    converged = [*kept, Layer.EDGE]
    converged_plans = run.in_background("plan", ENVIRONMENT, *(layer.value for layer in converged), "--detailed-exitcode", "--skip-synth")
    stale = run.lifecycle("apply", ENVIRONMENT, "--plans", str(plans), expect=3)
    assert re.search(r"saved plan of edge-dev: its state moved since the plan \(planned against serial (\d+), now serial (?!\1)\d+\)", stale), stale
    run.lifecycle("deploy", ENVIRONMENT, "observability", "--skip-synth")
    for layer in REBUILT:
        assert run.state(layer).deployed, layer
    for layer, before in kept.items():
        after = run.state(layer)
        assert (after.serial, after.lineage) == (before.serial, before.lineage), f"{layer.value} state changed"
    _assert_the_plans_are_empty(*converged_plans(), "after edge was rebuilt")
    _assert_the_plans_are_empty(*run.lifecycle_exit("plan", ENVIRONMENT, "observability", "--detailed-exitcode", "--skip-synth"), "after the rebuild")

    # Everything down, in reverse; every state stays, empty; the emulator holds nothing of dev.
    output = run.lifecycle("down", ENVIRONMENT, "--skip-synth")
    for layer in DEPLOY_ORDER:
        assert "destroyed in" in output
        state = run.state(layer)
        assert state is not None and state.managed_resources == 0, f"{layer.value}: {state}"
    assert "no orphans: everything of dev in the account is in its layers' states" in run.lifecycle("orphans", ENVIRONMENT, "--skip-synth")
    # Of kinds no layer declares (so `orphans` never looks for them), nothing tagged for dev either.
    leftovers = tagged_for_the_environment(run)
    assert not leftovers, json.dumps(leftovers, indent=2, default=str)

    with capsys.disabled():
        print_timings(run)


def _assert_the_plans_are_empty(code: int, output: str, when: str) -> None:
    """`lifecycle plan --detailed-exitcode` changed nothing; else fail naming the addresses and attributes it would change."""
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
