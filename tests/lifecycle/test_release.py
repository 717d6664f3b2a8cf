"""`lifecycle release`: one CodeDeploy blue/green deployment of the compute layer's revision, against
botocore's Stubber (every request checked against the service model, answered as AWS would)."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime, timezone
from itertools import count

import pytest

from config.environments import build_environments
from config.targets import DeploymentTarget
from lifecycle import cli
from lifecycle.operations import Lifecycle
from lifecycle.progress import Progress
from lifecycle.release import (
    ACTIVE_STATUSES,
    CHECKS_PER_REPORT,
    PREPARED_APPSPEC,
    PREPARED_OUTPUTS,
    PREPARED_TASK_DEFINITION,
    REGISTRATION_FIELDS,
    LoadBalancedContainer,
    Release,
    ReleaseFailed,
    ReleaseTarget,
    build_appspec,
    load_balanced_container,
    release,
)
from lifecycle.states import GuardRefusal, StateSummary, state_key
from stacks.layers import Layer
from tests.lifecycle import test_migration as migration
from tests.lifecycle.fakes import FakeStateReader
from tests.lifecycle.stubbed_aws import ACCOUNT, REGION, StubbedClients, state_with_outputs

FAMILY = "fraud-api-dev"
REVISION = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{FAMILY}"
REQUESTED, RUNNING, COPY = f"{REVISION}:8", f"{REVISION}:7", f"{REVISION}:9"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/fraud-api@sha256:" + "b" * 64
OLD_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/fraud-api@sha256:" + "a" * 64
OUTPUTS = {
    "fraud_api_task_definition_arn": REQUESTED,
    "codedeploy_application_name": "fraud-api-dev",
    "codedeploy_deployment_group_name": "fraud-api-dev",
    "ecs_cluster_name": "fraud-cluster-dev",
    "ecs_service_name": "fraud-api-dev",
}
TARGET = ReleaseTarget(*OUTPUTS.values())
# The compute layer's state also says how to run the schema migration (tests/lifecycle/test_migration.py).
STATE_OUTPUTS = {**OUTPUTS, **{name: value for name, value in migration.OUTPUTS.items() if name.startswith("fraud_api_migration_")}}
CONTAINER = LoadBalancedContainer("fraud-api", 8080)
TAGS = [{"key": "Environment", "value": "dev"}]
ALARM = ("One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected "
         "deployments have been stopped. Activated alarms: <fraud-api-green-5xx-dev>")


def task_definition(arn: str, image: str) -> dict:
    return {
        "taskDefinitionArn": arn,
        "family": FAMILY,
        "revision": int(arn.rsplit(":", 1)[1]),
        "status": "ACTIVE",
        "networkMode": "awsvpc",
        "cpu": "512",
        "memory": "1024",
        "requiresCompatibilities": ["FARGATE"],
        "compatibilities": ["EC2", "FARGATE"],
        "registeredAt": datetime(2026, 5, 1, tzinfo=timezone.utc),
        "containerDefinitions": [
            {"name": "fraud-api", "image": image, "essential": True, "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]},
            {"name": "xray-daemon", "image": "public.ecr.aws/xray/aws-xray-daemon:3.3.12", "portMappings": [{"containerPort": 2000, "protocol": "udp"}]},
        ],
    }


def service(running: str | None) -> dict:
    return {
        "serviceName": OUTPUTS["ecs_service_name"],
        "status": "ACTIVE",
        "taskDefinition": running or REQUESTED,
        "deploymentController": {"type": "CODE_DEPLOY"},
        "loadBalancers": [{"targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/blue/1", "containerName": "fraud-api", "containerPort": 8080}],
        "taskSets": [] if running is None else [{"id": "ecs-svc/1", "status": "PRIMARY", "taskDefinition": running}],
    }


def deployment(status: str, deployment_id: str = "d-NEW", task_definition_arn: str = REQUESTED, **more) -> dict:
    content = json.dumps(build_appspec(task_definition_arn, CONTAINER), sort_keys=True)
    return {"deploymentInfo": {
        "deploymentId": deployment_id,
        "applicationName": OUTPUTS["codedeploy_application_name"],
        "deploymentGroupName": OUTPUTS["codedeploy_deployment_group_name"],
        "status": status,
        "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": content}},
        **more,
    }}


def traffic(green: float) -> dict:
    return {"deploymentTarget": {"deploymentTargetType": "ECSTarget", "ecsTarget": {"taskSetsInfo": [
        {"taskSetLabel": "Blue", "trafficWeight": 100.0 - green, "runningCount": 2, "desiredCount": 2},
        {"taskSetLabel": "Green", "trafficWeight": green, "runningCount": 2, "desiredCount": 2},
    ]}}}


class Scenario:
    """The AWS answers of one release, in the order the release asks for them."""

    def __init__(self, clients: StubbedClients) -> None:
        self.ecs = clients.stub("ecs")
        self.codedeploy = clients.stub("codedeploy")

    def task_definition(self, arn: str, image: str = IMAGE) -> None:
        self.ecs.add_response("describe_task_definition", {"taskDefinition": task_definition(arn, image), "tags": TAGS},
                              {"taskDefinition": arn, "include": ["TAGS"]})

    def plan(self, running: str | None, running_image: str = OLD_IMAGE, active: tuple[dict, ...] = ()) -> None:
        self.task_definition(REQUESTED)
        self.ecs.add_response("describe_services", {"services": [service(running)], "failures": []},
                              {"cluster": TARGET.cluster_name, "services": [TARGET.service_name]})
        if running not in (None, REQUESTED):
            self.task_definition(running, running_image)
        if running == REQUESTED or (running is not None and running_image == IMAGE):
            return  # the requested revision runs already: nothing further is asked
        self.codedeploy.add_response(
            "list_deployments", {"deployments": [each["deploymentInfo"]["deploymentId"] for each in active]},
            {"applicationName": TARGET.application_name, "deploymentGroupName": TARGET.deployment_group_name,
             "includeOnlyStatuses": list(ACTIVE_STATUSES)},
        )
        for each in active:
            self.get_deployment(each)

    def create(self) -> None:
        content = json.dumps(build_appspec(REQUESTED, CONTAINER), sort_keys=True)
        self.codedeploy.add_response("create_deployment", {"deploymentId": "d-NEW"}, {
            "applicationName": TARGET.application_name,
            "deploymentGroupName": TARGET.deployment_group_name,
            "revision": {"revisionType": "AppSpecContent",
                         "appSpecContent": {"content": content, "sha256": hashlib.sha256(content.encode()).hexdigest()}},
            "description": f"lifecycle release: {FAMILY}:8",
        })

    def created(self) -> None:
        """A release of revision 8 over revision 7: the plan, the new deployment, read back."""
        self.plan(running=RUNNING)
        self.create()
        self.get_deployment(deployment("Created"))

    def get_deployment(self, answer: dict) -> None:
        self.codedeploy.add_response("get_deployment", answer, {"deploymentId": answer["deploymentInfo"]["deploymentId"]})

    def wait_bound(self, termination_minutes: int = 5) -> None:
        self.codedeploy.add_response("get_deployment_group", {"deploymentGroupInfo": {"blueGreenDeploymentConfiguration": {
            "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT", "waitTimeInMinutes": 0},
            "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": termination_minutes},
        }}}, {"applicationName": TARGET.application_name, "deploymentGroupName": TARGET.deployment_group_name})

    def still(self, status: str, green: float | None) -> None:
        """One round of the waiter that ends without a verdict, and the progress line's traffic."""
        for _ in range(CHECKS_PER_REPORT):
            self.get_deployment(deployment(status))
        self.target(green)

    def target(self, green: float | None) -> None:
        expected = {"deploymentId": "d-NEW", "targetId": TARGET.deployment_target_id}
        if green is None:
            self.codedeploy.add_client_error("get_deployment_target", service_error_code="DeploymentNotStartedException", expected_params=expected)
        else:
            self.codedeploy.add_response("get_deployment_target", traffic(green), expected)


def releaser(clients: StubbedClients, lines: list[str], *, emulator: bool = False, clock=None) -> Release:
    extra = {"clock": clock} if clock else {}
    return Release(ecs=clients.client("ecs"), codedeploy=clients.client("codedeploy"), say=lines.append,
                   is_emulator=emulator, poll_seconds=0, **extra)


# --- deciding what to release -----------------------------------------------------------------


def test_an_unchanged_revision_creates_no_deployment():
    clients, lines = StubbedClients(), []
    Scenario(clients).plan(running=REQUESTED)
    runner = releaser(clients, lines)
    assert runner.run(runner.plan(TARGET)) is None
    clients.assert_all_answered()  # and any other call (create_deployment) would have raised
    assert "the service already runs the requested revision: nothing to release" in lines


def test_a_copy_of_the_revision_with_the_same_definition_counts_as_unchanged():
    # The workflow's deploy action registers its own copy (revision 9) of the compute layer's revision 8.
    clients, lines = StubbedClients(), []
    Scenario(clients).plan(running=COPY, running_image=IMAGE)
    runner = releaser(clients, lines)
    plan = runner.plan(TARGET)
    assert plan.unchanged and plan.running_task_definition_arn == COPY
    assert runner.run(plan) is None
    clients.assert_all_answered()


def test_the_load_balanced_container_is_the_one_tcp_mapping_the_service_registers():
    definition = task_definition(REQUESTED, IMAGE)
    assert load_balanced_container(definition, service(RUNNING)) == CONTAINER
    definition["containerDefinitions"][1]["portMappings"].append({"containerPort": 9090, "protocol": "tcp"})
    assert load_balanced_container(definition, service(RUNNING)) == CONTAINER
    with pytest.raises(ReleaseFailed, match="exactly one TCP port mapping .* found fraud-api:8080, xray-daemon:9090"):
        load_balanced_container(definition, {"loadBalancers": []})


# --- releasing and waiting ------------------------------------------------------------------------


def test_a_new_revision_is_deployed_and_waited_for_with_progress():
    clients, lines = StubbedClients(), []
    scenario = Scenario(clients)
    scenario.created()
    scenario.wait_bound()
    scenario.still("InProgress", green=None)
    scenario.still("InProgress", green=10.0)
    scenario.still("InProgress", green=10.0)  # unchanged: no second line
    scenario.get_deployment(deployment("Succeeded"))  # the waiter's verdict
    scenario.get_deployment(deployment("Succeeded"))
    scenario.target(100.0)
    runner = releaser(clients, lines)
    assert runner.run(runner.plan(TARGET)) == "d-NEW"
    clients.assert_all_answered()
    assert lines[:2] == [f"service {TARGET.cluster_name}/{TARGET.service_name} runs {FAMILY}:7", f"requested {FAMILY}:8 (container fraud-api:8080)"]
    assert "waiting for d-NEW (at most 35 min)" in lines
    progress = [line for line in lines if line.startswith("deployment d-NEW: ")]
    assert progress == [
        "deployment d-NEW: Created",
        "deployment d-NEW: InProgress; traffic: not shifted yet (DeploymentNotStartedException)",
        "deployment d-NEW: InProgress; traffic: blue 90% (2/2 tasks), green 10% (2/2 tasks)",
        "deployment d-NEW: Succeeded; traffic: blue 0% (2/2 tasks), green 100% (2/2 tasks)",
    ]


def test_a_rolled_back_deployment_fails_with_its_id_and_reason():
    clients, lines = StubbedClients(), []
    scenario = Scenario(clients)
    scenario.created()
    scenario.wait_bound()
    scenario.get_deployment(deployment(
        "Stopped",
        errorInformation={"code": "ALARM_ACTIVE", "message": ALARM},
        rollbackInfo={"rollbackDeploymentId": "d-BACK", "rollbackMessage": "Deployment d-NEW was rolled back by d-BACK"},
    ))
    runner = releaser(clients, lines)
    with pytest.raises(ReleaseFailed) as failure:
        runner.run(runner.plan(TARGET))
    message = str(failure.value)
    assert message.startswith(f"deployment d-NEW Stopped: ALARM_ACTIVE: {ALARM}; rolled back by deployment d-BACK")
    assert "keeps serving the previous revision" in message
    clients.assert_all_answered()


def test_waiting_is_bounded():
    clients, lines = StubbedClients(), []
    scenario = Scenario(clients)
    scenario.created()
    scenario.wait_bound(termination_minutes=0)
    scenario.still("InProgress", green=10.0)
    seconds = count(0, 3600)  # an hour passes between two looks at the clock
    runner = releaser(clients, lines, clock=lambda: next(seconds))
    with pytest.raises(ReleaseFailed, match=r"d-NEW is still InProgress after 30 min; .* \(aws deploy stop-deployment --deployment-id d-NEW --auto-rollback-enabled"):
        runner.run(runner.plan(TARGET), wait_minutes=30)
    clients.assert_all_answered()


def test_on_the_emulator_the_deployment_is_created_read_back_and_not_waited_for():
    clients, lines = StubbedClients(), []
    scenario = Scenario(clients)
    scenario.created()
    runner = releaser(clients, lines, emulator=True)
    assert runner.run(runner.plan(TARGET)) == "d-NEW"
    clients.assert_all_answered()  # no deployment group read, no waiter
    assert lines[-2:] == ["deployment d-NEW: Created", lines[-1]]
    assert lines[-1].startswith("not waiting: the emulator (moto) keeps every CodeDeploy deployment at Created")


def test_a_deployment_of_this_revision_under_way_is_waited_for_not_repeated():
    clients, lines = StubbedClients(), []
    scenario = Scenario(clients)
    scenario.plan(running=RUNNING, active=(deployment("InProgress"),))
    scenario.get_deployment(deployment("InProgress"))
    scenario.wait_bound()
    scenario.get_deployment(deployment("Succeeded"))
    scenario.get_deployment(deployment("Succeeded"))
    scenario.target(100.0)
    runner = releaser(clients, lines)
    assert runner.run(runner.plan(TARGET)) == "d-NEW"
    clients.assert_all_answered()  # no create_deployment
    assert "deployment d-NEW is already rolling out this revision: not creating another" in lines


def test_a_deployment_of_another_revision_under_way_is_refused():
    clients = StubbedClients()
    scenario = Scenario(clients)
    other = deployment("InProgress", deployment_id="d-OTHER", task_definition_arn=RUNNING)
    scenario.plan(running=f"{REVISION}:6", active=(other,))
    scenario.task_definition(RUNNING, OLD_IMAGE)  # is the other deployment's revision this one in disguise? no
    with pytest.raises(GuardRefusal, match=f"deployment d-OTHER \\(InProgress\\) is still rolling out {FAMILY}:7 .* stop-deployment"):
        releaser(clients, []).plan(TARGET)
    clients.assert_all_answered()


# --- what the compute layer's state says ---------------------------------------------------------


def test_the_target_comes_from_the_compute_outputs_and_refuses_what_cannot_be_released():
    migration.assert_read_from_the_compute_state(ReleaseTarget, OUTPUTS, TARGET)
    with pytest.raises(GuardRefusal, match="no output ecs_service_name"):
        ReleaseTarget.from_state(StateSummary.parse(state_with_outputs({**OUTPUTS, "ecs_service_name": ""})), "compute-dev")
    omitted = {**OUTPUTS, "codedeploy_application_name": "emulator-omitted:aws_codedeploy_app.name"}
    with pytest.raises(GuardRefusal, match="EMULATOR_GAPS left them out"):
        ReleaseTarget.from_state(StateSummary.parse(state_with_outputs(omitted)), "compute-dev")


def compute_lifecycle(tmp_path) -> Lifecycle:
    return Lifecycle(target=DeploymentTarget(), environment=build_environments()["dev"], outdir=tmp_path, workdir=tmp_path,
                     reader=FakeStateReader({state_key("dev", Layer.COMPUTE): state_with_outputs(STATE_OUTPUTS)}), progress=Progress(out=io.StringIO()))


def test_prepare_writes_what_the_workflow_action_registers_and_deploys(tmp_path):
    clients = StubbedClients()
    Scenario(clients).plan(running=RUNNING)
    release(compute_lifecycle(tmp_path), clients, prepare=tmp_path / "release", image="fraud-api@sha256:" + "b" * 64)
    clients.assert_all_answered()
    registered = json.loads((tmp_path / "release" / PREPARED_TASK_DEFINITION).read_text())
    assert not REGISTRATION_FIELDS & set(registered)
    assert registered["containerDefinitions"][0]["image"] == IMAGE and registered["tags"] == TAGS
    appspec = json.loads((tmp_path / "release" / PREPARED_APPSPEC).read_text())
    assert appspec["Resources"][0]["TargetService"]["Properties"] == {
        "TaskDefinition": REQUESTED, "LoadBalancerInfo": {"ContainerName": "fraud-api", "ContainerPort": 8080}}
    outputs = dict(line.split("=", 1) for line in (tmp_path / "release" / PREPARED_OUTPUTS).read_text().splitlines())
    assert outputs == {"changed": "true", "task-definition-arn": REQUESTED, "cluster": TARGET.cluster_name, "service": TARGET.service_name,
                       "codedeploy-application": TARGET.application_name, "codedeploy-deployment-group": TARGET.deployment_group_name}


def test_a_revision_that_does_not_run_the_promoted_image_is_refused(tmp_path):
    clients = StubbedClients()
    Scenario(clients).plan(running=RUNNING)
    with pytest.raises(GuardRefusal, match=f"compute-dev's revision {FAMILY}:8 runs {IMAGE} in fraud-api, not fraud-api@sha256:a{{64}}"):
        release(compute_lifecycle(tmp_path), clients, prepare=tmp_path / "release", image="fraud-api@sha256:" + "a" * 64)
    assert not (tmp_path / "release").exists()


# --- the command ---------------------------------------------------------------------------------


@pytest.fixture
def command(tmp_path, monkeypatch, capsys):
    return migration.command_on_dev(tmp_path, monkeypatch, capsys, "release", STATE_OUTPUTS)


def migration_succeeds(clients: StubbedClients, service_runs: str) -> None:
    """The migration's answers, asked for between the release's plan and its deployment."""
    steps = migration.Scenario(clients)
    steps.started("RUNNING")
    steps.described(migration.task("STOPPED", exit_code=0))
    steps.service(migration.task_set(service_runs, "STEADY_STATE", 2))


def test_the_command_exits_non_zero_on_a_rolled_back_release_printing_the_reason(command):
    clients, run = command
    scenario = Scenario(clients)
    scenario.plan(running=RUNNING)
    migration_succeeds(clients, RUNNING)
    scenario.create()
    scenario.get_deployment(deployment("Created"))
    scenario.wait_bound()
    scenario.get_deployment(deployment("Failed", errorInformation={"code": "ALARM_ACTIVE", "message": ALARM},
                                       rollbackInfo={"rollbackDeploymentId": "d-BACK"}))
    code, out, err = run()
    assert code == cli.EXIT_FAILED
    assert f"error: deployment d-NEW Failed: ALARM_ACTIVE: {ALARM}; rolled back by deployment d-BACK" in err
    assert "compute-dev            release FAILED after" in out
    clients.assert_all_answered()


def test_the_command_migrates_even_an_unchanged_revision_and_deploys_nothing(command):
    clients, run = command
    Scenario(clients).plan(running=REQUESTED)
    migration_succeeds(clients, REQUESTED)
    code, out, _ = run()
    assert code == 0
    assert out.index("compute-dev            migrate in") < out.index("nothing to release") < out.index("compute-dev            release in")
    clients.assert_all_answered()


def test_a_failed_migration_releases_nothing(command):
    clients, run = command
    Scenario(clients).plan(running=RUNNING)
    steps = migration.Scenario(clients)
    steps.started("RUNNING")
    steps.described(migration.task("STOPPED", exit_code=3, stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited"))
    steps.log("migration failed: could not obtain lock on relation transactions")
    code, out, err = run()
    assert code == cli.EXIT_FAILED
    assert "error: migration task 0f1e2d3c4b5a exited 3" in err and "Nothing was released" in err
    assert "compute-dev            migrate FAILED after" in out and "release ... running" not in out
    clients.assert_all_answered()  # and no create_deployment: the stub would have refused it


def test_prepare_runs_no_migration_the_workflow_runs_it_as_its_own_step(tmp_path):
    clients = StubbedClients()
    Scenario(clients).plan(running=RUNNING)
    release(compute_lifecycle(tmp_path), clients, prepare=tmp_path / "release")
    clients.assert_all_answered()  # no run_task answer was given, so none was asked for
