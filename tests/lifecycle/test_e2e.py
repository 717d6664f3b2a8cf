"""End to end on the local emulator: one environment deployed, partly rebuilt and torn down with real Terraform.

Driven through the documented commands (`python -m lifecycle ...`, what scripts/lifecycle.sh runs),
from the layer DAG rather than a list of resources, so it keeps working as the stacks grow. After
`up` and after the rebuild every layer must plan no change (a second plan is empty); one change
made outside Terraform must be found by `drift`, and be gone after a redeploy. Only the final
"nothing is left" check names services, and it asks each one broadly.

    .venv/bin/pytest -m e2e          # about 12 minutes; scripts/test.sh runs it beside the default suite
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from config.environment_variables import read_environments
from config.targets import DeploymentTarget
from lifecycle.states import S3StateReader, StateSummary, state_key
from scripts import emulator
from stacks.layers import DEPLOY_ORDER, LAYER_DEPENDENCIES, Layer, stack_id

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = "dev"
REBUILT = (Layer.OBSERVABILITY, Layer.EDGE)


class Run:
    """The lifecycle commands against one emulator, with every step's report kept for the timing table."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.reports: list[tuple[str, list[dict[str, Any]]]] = []
        self.started = time.monotonic()
        # What the lifecycle itself will read (FRAUD_HOSTED_ZONE and friends may be set).
        (self.config,) = read_environments({**os.environ, "FRAUD_ENVIRONMENTS": ENVIRONMENT})

    def lifecycle(self, *args: str, expect: int = 0) -> str:
        code, output = self.lifecycle_exit(*args)
        assert code == expect, f"lifecycle {' '.join(args)} exited {code}, expected {expect}:\n{output}"
        return output

    def lifecycle_exit(self, *args: str) -> tuple[int, str]:
        """The command's exit code and output, for the caller to judge."""
        report = self.workdir / f"report-{len(self.reports)}.json"
        result = subprocess.run(
            [sys.executable, "-m", "lifecycle", *args, "--workdir", str(self.workdir), "--report", str(report)],
            cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=1800,
        )
        output = result.stdout + result.stderr
        print(f"$ lifecycle {' '.join(args)}\n{output}")
        self.reports.append((" ".join(args), json.loads(report.read_text()) if report.exists() else []))
        return result.returncode, output

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
    # Converged: planning every layer again (side by side) finds nothing to change.
    _assert_every_plan_is_empty(run, "after up")

    # Drift: one alarm's threshold changed outside Terraform is found, named with its layer and
    # attribute, and nothing else; deploying the layer puts it back and the layer is clean again.
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
    leftovers = _what_the_emulator_still_holds(run)
    assert not leftovers, json.dumps(leftovers, indent=2, default=str)

    with capsys.disabled():
        _print_timings(run)


def _assert_every_plan_is_empty(run: Run, when: str) -> None:
    """A plan of every layer changes nothing; else fail naming the addresses and attributes it would change."""
    code, output = run.lifecycle_exit("plan", ENVIRONMENT, "--detailed-exitcode", "--skip-synth")
    marker = "==> what the plans change"
    changes = output[output.index(marker) : output.index("==> summary")] if marker in output else output
    assert code == 0, f"{when}, a plan is not empty (lifecycle plan exited {code}):\n{changes}"


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


def _what_the_emulator_still_holds(run: Run) -> dict[str, list[Any]]:
    """Broad questions to each service the stacks use; the state bucket and account-level step-0 things excepted."""
    bootstrap = _bootstrap_identifiers(run.workdir / "bootstrap.tfstate")
    ec2 = run.client("ec2")
    vpcs = [vpc["VpcId"] for vpc in ec2.describe_vpcs()["Vpcs"] if not vpc["IsDefault"]]
    default_vpcs = [vpc["VpcId"] for vpc in ec2.describe_vpcs()["Vpcs"] if vpc["IsDefault"]]
    not_default = [{"Name": "vpc-id", "Values": vpcs}] if vpcs else None
    s3 = run.client("s3")
    rds = run.client("rds")
    apigateway = run.client("apigateway")
    iam = run.client("iam")
    kms = run.client("kms")
    route53 = run.client("route53")
    autoscaling = run.client("application-autoscaling")
    xray = run.client("xray")
    zone_id = route53.list_hosted_zones_by_name(DNSName=run.config.edge.hosted_zone_name)["HostedZones"][0]["Id"]
    found = {
        "vpcs": vpcs,
        "subnets": [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] not in default_vpcs],
        "security_groups": [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["VpcId"] not in default_vpcs],
        "nat_gateways": [n["NatGatewayId"] for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] not in ("deleted", "deleting")],
        "elastic_ips": [a.get("AllocationId") for a in ec2.describe_addresses()["Addresses"]],
        "vpc_endpoints": [e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"] if e["State"].lower() != "deleted"],
        "flow_logs": [f["FlowLogId"] for f in ec2.describe_flow_logs()["FlowLogs"]],
        "route_tables": [t["RouteTableId"] for t in ec2.describe_route_tables(Filters=not_default)["RouteTables"]] if not_default else [],
        "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"] not in bootstrap],
        "tables": run.client("dynamodb").list_tables()["TableNames"],
        "functions": [f["FunctionName"] for f in run.client("lambda").list_functions()["Functions"]],
        "db_clusters": [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]],
        "db_instances": [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]],
        "db_subnet_groups": [g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"] if g["DBSubnetGroupName"] != "default"],
        "ecs_clusters": [c["clusterName"] for c in run.client("ecs").describe_clusters(clusters=run.client("ecs").list_clusters()["clusterArns"])["clusters"] if c["status"] == "ACTIVE"],
        "load_balancers": [lb["LoadBalancerName"] for lb in run.client("elbv2").describe_load_balancers()["LoadBalancers"]],
        "target_groups": [tg["TargetGroupName"] for tg in run.client("elbv2").describe_target_groups()["TargetGroups"]],
        "kms_keys": [
            key["KeyId"] for key in kms.list_keys()["Keys"]
            if key["KeyId"] not in bootstrap and _still_there(run, key["KeyArn"])
            # AWS-managed keys (alias/aws/dynamodb, ...) belong to the account, made by a service on first use.
            and not any(alias["AliasName"].startswith("alias/aws/") for alias in kms.list_aliases(KeyId=key["KeyId"])["Aliases"])
        ],
        "log_groups": [g["logGroupName"] for g in run.client("logs").describe_log_groups()["logGroups"]],
        "topics": [t["TopicArn"] for t in run.client("sns").list_topics()["Topics"]],
        "queues": run.client("sqs").list_queues().get("QueueUrls", []),
        "secrets": [s["Name"] for s in run.client("secretsmanager").list_secrets()["SecretList"] if not s.get("DeletedDate")],
        "parameters": [p["Name"] for p in run.client("ssm").describe_parameters()["Parameters"]],
        "rest_apis": [a["name"] for a in apigateway.get_rest_apis()["items"]],
        "api_keys": [k["name"] for k in apigateway.get_api_keys()["items"]],
        "usage_plans": [p["name"] for p in apigateway.get_usage_plans()["items"]],
        "vpc_links": [link["name"] for link in apigateway.get_vpc_links()["items"]],
        "web_acls": [acl["Name"] for acl in run.client("wafv2").list_web_acls(Scope="REGIONAL")["WebACLs"]],
        "alarms": [a["AlarmName"] for a in run.client("cloudwatch").describe_alarms()["MetricAlarms"]],
        "dashboards": [d["DashboardName"] for d in run.client("cloudwatch").list_dashboards()["DashboardEntries"]],
        "event_rules": [r["Name"] for r in run.client("events").list_rules()["Rules"]],
        "scalable_targets": [t["ResourceId"] for t in autoscaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]],
        "scaling_policies": [p["PolicyName"] for p in autoscaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]],
        "scheduled_actions": [a["ScheduledActionName"] for a in autoscaling.describe_scheduled_actions(ServiceNamespace="ecs")["ScheduledActions"]],
        "codedeploy_applications": run.client("codedeploy").list_applications()["applications"],
        "xray_sampling_rules": [r["SamplingRule"]["RuleName"] for r in xray.get_sampling_rules()["SamplingRuleRecords"]],
        "xray_groups": [g["GroupName"] for g in xray.get_groups()["Groups"]],
        "certificates": [c["CertificateArn"] for c in run.client("acm").list_certificates()["CertificateSummaryList"]],
        "dns_records": [r["Name"] for r in route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"] if r["Type"] not in ("NS", "SOA")],
        "iam_roles": [r["RoleName"] for r in iam.list_roles()["Roles"] if not r["Path"].startswith("/aws-service-role/") and r["RoleName"] not in bootstrap],
        "iam_policies": [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"] not in bootstrap],
        "tagged_for_dev": [
            r["ResourceARN"] for r in run.client("resourcegroupstaggingapi").get_resources(TagFilters=[{"Key": "Environment", "Values": [ENVIRONMENT]}])["ResourceTagMappingList"]
            if _still_there(run, r["ResourceARN"])
        ],
    }
    return {kind: items for kind, items in found.items() if items}


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


def _bootstrap_identifiers(state_file: Path) -> set[str]:
    """Names and ids of what step 0 owns (the state bucket, its key, the account's API Gateway role)."""
    state = json.loads(state_file.read_text())
    identifiers: set[str] = set()
    for resource in state.get("resources", []):
        for instance in resource.get("instances", []):
            attributes = instance.get("attributes", {})
            identifiers.update(str(attributes[key]) for key in ("id", "bucket", "name", "key_id") if attributes.get(key))
    return identifiers


def _print_timings(run: Run) -> None:
    total = time.monotonic() - run.started
    print("\n\nlifecycle e2e timings (emulator)")
    for command, steps in run.reports:
        for step in steps:
            if step["outcome"] in ("done", "failed"):
                print(f"  {command.split()[0]:<10} {step['stack']:<22} {step['action']:<9} {step['outcome']:<7} {step['seconds']:7.1f} s")
    print(f"  e2e wall time: {total:.0f} s")
    (run.workdir / "e2e-timings.json").write_text(json.dumps({"wall_seconds": round(total, 1), "steps": run.reports}, indent=2))
