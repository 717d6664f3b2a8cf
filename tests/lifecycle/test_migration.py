"""`lifecycle migrate`: fraud-api's schema migration task, run and judged by its exit code, against
botocore's Stubber (every request checked against the service model, answered as AWS would)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from itertools import count

import pytest

from config.environment_variables import read_environments
from config.environments import build_environments
from config.targets import DeploymentTarget
from lifecycle import cli
from lifecycle.migration import (
    EMULATOR_RUNS_NO_CONTAINERS,
    STARTED_BY,
    Migration,
    MigrationFailed,
    MigrationTarget,
    migrate,
)
from lifecycle.operations import Lifecycle
from lifecycle.progress import Progress
from lifecycle.states import GuardRefusal, StateSummary, state_key
from stacks.layers import Layer
from tests.lifecycle.fakes import FakeStateReader
from tests.lifecycle.stubbed_aws import ACCOUNT, REGION, StubbedClients, state_object, state_with_outputs

DEFINITIONS = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition"
MIGRATION = f"{DEFINITIONS}/fraud-api-migrate-dev:3"
SERVING = f"{DEFINITIONS}/fraud-api-dev:8"
CLUSTER, SERVICE = "fraud-cluster-dev", "fraud-api-dev"
SUBNETS = ["subnet-0a", "subnet-0b", "subnet-0c"]
GROUP = "sg-0migration"
TASK = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/0f1e2d3c4b5a"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/fraud-api@sha256:" + "b" * 64
LOG_GROUP, STREAM = "/ecs/fraud-api-dev", "migrate/fraud-api-migrate/0f1e2d3c4b5a"
OUTPUTS = {
    "fraud_api_migration_task_definition_arn": MIGRATION,
    "fraud_api_migration_subnet_ids": SUBNETS,
    "fraud_api_migration_security_group_id": GROUP,
    "ecs_cluster_name": CLUSTER,
    "ecs_service_name": SERVICE,
    "fraud_api_task_definition_arn": SERVING,
}
TARGET = MigrationTarget(MIGRATION, tuple(SUBNETS), GROUP, CLUSTER, SERVICE, SERVING)


def task(status: str, *, exit_code: int | None = None, stop_code: str | None = None, stopped_reason: str | None = None, reason: str | None = None) -> dict:
    container = {"name": "fraud-api-migrate", "lastStatus": status}
    if exit_code is not None:
        container["exitCode"] = exit_code
    if reason:
        container["reason"] = reason
    answer = {"taskArn": TASK, "taskDefinitionArn": MIGRATION, "lastStatus": status, "containers": [container]}
    if stop_code:
        answer |= {"stopCode": stop_code, "stoppedReason": stopped_reason}
    return answer


def task_set(definition: str, stability: str, running: int, desired: int = 2) -> dict:
    return {"id": "ecs-svc/1", "status": "PRIMARY", "taskDefinition": definition, "stabilityStatus": stability,
            "runningCount": running, "computedDesiredCount": desired}


class Scenario:
    """The AWS answers of one migration, in the order the migration asks for them."""

    def __init__(self, clients: StubbedClients) -> None:
        self.ecs = clients.stub("ecs")
        self.logs = clients.stub("logs")

    def started(self, first_status: str = "PROVISIONING") -> None:
        self.definition_read()
        self.ecs.add_response("run_task", {"tasks": [task(first_status)], "failures": []}, {
            "cluster": CLUSTER, "taskDefinition": MIGRATION, "count": 1, "launchType": "FARGATE", "platformVersion": "LATEST",
            "startedBy": STARTED_BY, "propagateTags": "TASK_DEFINITION", "enableECSManagedTags": True,
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": SUBNETS, "securityGroups": [GROUP], "assignPublicIp": "DISABLED"}},
        })
        self.described(task(first_status))  # read back

    def definition_read(self) -> None:
        """The migration task's definition, which the migration reads before it runs the task."""
        self.ecs.add_response("describe_task_definition", {"taskDefinition": {
            "taskDefinitionArn": MIGRATION,
            "containerDefinitions": [{"name": "fraud-api-migrate", "image": IMAGE, "command": ["python", "-m", "fraud_api.migrate"],
                                      "logConfiguration": {"logDriver": "awslogs", "options": {
                                          "awslogs-group": LOG_GROUP, "awslogs-region": REGION, "awslogs-stream-prefix": "migrate"}}}],
        }}, {"taskDefinition": MIGRATION})

    def described(self, answer: dict) -> None:
        self.ecs.add_response("describe_tasks", {"tasks": [answer], "failures": []}, {"cluster": CLUSTER, "tasks": [TASK]})

    def service(self, *task_sets: dict) -> None:
        self.ecs.add_response("describe_services", {"services": [{"serviceName": SERVICE, "status": "ACTIVE", "taskSets": list(task_sets)}],
                                                    "failures": []}, {"cluster": CLUSTER, "services": [SERVICE]})

    def log(self, *lines: str) -> None:
        events = [{"timestamp": 1, "message": line, "ingestionTime": 2} for line in lines]
        self.logs.add_response("get_log_events", {"events": events},
                               {"logGroupName": LOG_GROUP, "logStreamName": STREAM, "limit": 20, "startFromHead": False})


def runner(clients: StubbedClients, lines: list[str], *, emulator: bool = False, clock=None) -> Migration:
    extra = {"clock": clock} if clock else {}
    return Migration(ecs=clients.client("ecs"), logs=clients.client("logs"), say=lines.append, is_emulator=emulator,
                     poll_seconds=0, sleep=lambda _: None, **extra)


# --- running and judging ------------------------------------------------------------------------


def test_a_migration_that_exits_0_is_waited_for_with_each_status():
    clients, lines = StubbedClients(), []
    scenario = Scenario(clients)
    scenario.started()
    scenario.described(task("PROVISIONING"))
    scenario.described(task("PENDING"))
    scenario.described(task("RUNNING", exit_code=None))
    scenario.described(task("RUNNING"))  # unchanged: no second line
    scenario.described(task("STOPPED", exit_code=0, stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited"))
    scenario.service(task_set(f"{DEFINITIONS}/fraud-api-dev:7", "STEADY_STATE", 2))  # a deployment follows: no wait
    assert runner(clients, lines).run(TARGET) == TASK
    clients.assert_all_answered()
    assert lines[0] == f"fraud-api-migrate-dev:3 runs {IMAGE} in {CLUSTER}"
    statuses = [line.rsplit(": ", 1)[1] for line in lines if line.startswith("migration task 0f1e2d3c4b5a: ")]
    assert statuses == ["PROVISIONING", "PENDING", "RUNNING", "STOPPED"]
    assert "waiting for migration task 0f1e2d3c4b5a to stop (at most 15 min)" in lines
    assert lines[-1] == "migration task 0f1e2d3c4b5a exited 0: the schema is current and the application role provisioned"


def test_a_failed_migration_names_its_exit_code_the_stopped_reason_and_its_last_log_lines():
    clients, lines = StubbedClients(), []
    scenario = Scenario(clients)
    scenario.started()
    scenario.described(task("STOPPED", exit_code=3, stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited"))
    scenario.log('{"level": "ERROR", "message": "migration failed: permission denied for schema public"}')
    with pytest.raises(MigrationFailed) as failure:
        runner(clients, lines).run(TARGET)
    clients.assert_all_answered()  # and no describe_services: nothing after a failure
    message = str(failure.value)
    assert message.startswith(
        "migration task 0f1e2d3c4b5a exited 3 (the migration failed: its one transaction rolled back, nothing changed); "
        "ECS: EssentialContainerExited: Essential container in task exited. Nothing was released"
    )
    assert f"See its log: {LOG_GROUP}, stream {STREAM}" in message
    assert message.endswith('| {"level": "ERROR", "message": "migration failed: permission denied for schema public"}')


def test_a_task_whose_container_never_ran_says_why():
    clients = StubbedClients()
    scenario = Scenario(clients)
    scenario.started()
    scenario.described(task(
        "STOPPED", stop_code="TaskFailedToStart", stopped_reason="CannotPullContainerError: pull image manifest has been retried 5 time(s)",
        reason="CannotPullContainerError: ref pull has been retried",
    ))
    with pytest.raises(MigrationFailed, match=r"stopped before its container ran; ECS: TaskFailedToStart: CannotPullContainerError: .*; "
                                              r"container: CannotPullContainerError: ref pull has been retried\. Nothing was released"):
        runner(clients, []).run(TARGET)
    clients.assert_all_answered()  # no log read: the container never ran


@pytest.mark.parametrize("run_task_answer, message", [
    pytest.param(lambda ecs: ecs.add_response("run_task", {"tasks": [], "failures": [{"arn": MIGRATION, "reason": "RESOURCE:ENI", "detail": "no free addresses"}]}),
                 rf"ECS did not start the migration task fraud-api-migrate-dev:3 in {CLUSTER} \({MIGRATION}: RESOURCE:ENI no free addresses\)",
                 id="ECS refuses to start the task: its reasons"),
    pytest.param(lambda ecs: ecs.add_client_error("run_task", service_error_code="AccessDeniedException", service_message="not authorized to perform: iam:PassRole"),
                 r"ECS refused to run the migration task fraud-api-migrate-dev:3 .*iam:PassRole.*; nothing was released",
                 id="ECS refuses the call: the error"),
])
def test_a_task_ecs_does_not_start_fails_naming_why(run_task_answer, message):
    clients = StubbedClients()
    scenario = Scenario(clients)
    scenario.definition_read()
    run_task_answer(scenario.ecs)
    with pytest.raises(MigrationFailed, match=message):
        runner(clients, []).run(TARGET)
    clients.assert_all_answered()


def test_a_task_not_yet_visible_after_it_started_is_looked_for_again():
    clients, lines = StubbedClients(), []
    scenario = Scenario(clients)
    scenario.definition_read()
    scenario.ecs.add_response("run_task", {"tasks": [task("PROVISIONING")], "failures": []})
    for _ in range(2):  # ECS is eventually consistent: the read-back and the first look find nothing
        scenario.ecs.add_response("describe_tasks", {"tasks": [], "failures": [{"arn": TASK, "reason": "MISSING"}]}, {"cluster": CLUSTER, "tasks": [TASK]})
    scenario.described(task("STOPPED", exit_code=0))
    scenario.service(task_set(SERVING, "STEADY_STATE", 2))
    runner(clients, lines).run(TARGET)
    clients.assert_all_answered()
    assert "migration task 0f1e2d3c4b5a: not visible yet" in lines and "migration task 0f1e2d3c4b5a: STOPPED" in lines


def test_waiting_is_bounded_and_a_migration_past_the_bound_is_stopped():
    clients, lines = StubbedClients(), []
    scenario = Scenario(clients)
    scenario.started("RUNNING")
    scenario.described(task("RUNNING"))
    scenario.described(task("RUNNING"))
    scenario.ecs.add_response("stop_task", {"task": task("STOPPING")},
                              {"cluster": CLUSTER, "task": TASK, "reason": f"{STARTED_BY}: not finished after 15 min"})
    seconds = count(0, 600)  # ten minutes pass between two looks at the clock
    with pytest.raises(MigrationFailed, match=r"still RUNNING after 15 min: stopped it \(an unfinished migration rolls back, releasing its locks\)"):
        runner(clients, lines, clock=lambda: next(seconds)).run(TARGET)
    clients.assert_all_answered()


def test_on_the_emulator_the_task_is_started_read_back_and_not_waited_for():
    clients, lines = StubbedClients(), []
    Scenario(clients).started("RUNNING")
    assert runner(clients, lines, emulator=True).run(TARGET) == TASK
    clients.assert_all_answered()  # no second describe_tasks, no service
    assert lines[-2:] == ["migration task 0f1e2d3c4b5a: RUNNING", f"not waiting: {EMULATOR_RUNS_NO_CONTAINERS}"]


# --- a first deploy ----------------------------------------------------------------------------------


def test_after_a_first_deploy_the_service_is_waited_for_until_its_tasks_serve():
    clients, lines = StubbedClients(), []
    scenario = Scenario(clients)
    scenario.started("RUNNING")
    scenario.described(task("STOPPED", exit_code=0))
    # The service runs the compute layer's own revision; its tasks exited 3 until now.
    scenario.service(task_set(SERVING, "STABILIZING", 0))
    scenario.service(task_set(SERVING, "STABILIZING", 1))
    scenario.service(task_set(SERVING, "STEADY_STATE", 2))
    runner(clients, lines).run(TARGET)
    clients.assert_all_answered()
    assert any(line.startswith(f"first deploy: service {SERVICE} runs fraud-api-dev:8, whose tasks exit 3 until the schema exists") for line in lines)
    assert lines[-3:] == [
        f"service {SERVICE}: 0/2 tasks running, STABILIZING",
        f"service {SERVICE}: 1/2 tasks running, STABILIZING",
        f"service {SERVICE}: 2/2 tasks running, STEADY_STATE",
    ]


def test_a_first_deploy_whose_service_never_settles_fails_after_the_bound():
    clients = StubbedClients()
    scenario = Scenario(clients)
    scenario.started("RUNNING")
    scenario.described(task("STOPPED", exit_code=0))
    scenario.service(task_set(SERVING, "STABILIZING", 0))
    scenario.service(task_set(SERVING, "STABILIZING", 0))
    seconds = count(0, 400)
    with pytest.raises(MigrationFailed, match=rf"the migration succeeded, but service {SERVICE} did not become steady in 10 min \(.*0/2 tasks running"):
        runner(clients, [], clock=lambda: next(seconds)).run(TARGET)
    clients.assert_all_answered()


def test_a_steady_service_or_one_awaiting_a_deployment_is_not_waited_for():
    for running in (task_set(SERVING, "STEADY_STATE", 2), task_set(f"{DEFINITIONS}/fraud-api-dev:9", "STABILIZING", 1)):
        clients = StubbedClients()
        scenario = Scenario(clients)
        scenario.started("RUNNING")
        scenario.described(task("STOPPED", exit_code=0))
        scenario.service(running)
        runner(clients, []).run(TARGET)
        clients.assert_all_answered()


# --- what the compute layer's state says ---------------------------------------------------------


def assert_read_from_the_compute_state(target_class: type, outputs: dict, target: object) -> None:
    """A compute-layer target (this one, the release's) is read from the layer's outputs and
    refused while the layer is not deployed."""
    assert target_class.from_state(StateSummary.parse(state_with_outputs(outputs)), "compute-dev") == target
    with pytest.raises(GuardRefusal, match="compute-dev is not deployed"):
        target_class.from_state(None, "compute-dev")


def test_the_target_comes_from_the_compute_outputs_and_refuses_an_older_compute_layer():
    assert_read_from_the_compute_state(MigrationTarget, OUTPUTS, TARGET)
    older = {name: value for name, value in OUTPUTS.items() if not name.startswith("fraud_api_migration_")}
    with pytest.raises(GuardRefusal, match="no output fraud_api_migration_task_definition_arn, fraud_api_migration_subnet_ids, "
                                           "fraud_api_migration_security_group_id: deploy the compute layer again"):
        MigrationTarget.from_state(StateSummary.parse(state_with_outputs(older)), "compute-dev")


def test_the_command_reports_the_step_and_leaves_its_outcome_in_the_progress(tmp_path):
    clients = StubbedClients()
    scenario = Scenario(clients)
    scenario.started("RUNNING")
    scenario.described(task("STOPPED", exit_code=0))
    scenario.service(task_set(SERVING, "STEADY_STATE", 2))
    out = io.StringIO()
    lifecycle = Lifecycle(target=DeploymentTarget(), environment=build_environments()["dev"], outdir=tmp_path, workdir=tmp_path,
                          reader=FakeStateReader({state_key("dev", Layer.COMPUTE): state_with_outputs(OUTPUTS)}), progress=Progress(out=out))
    migrate(lifecycle, clients)
    clients.assert_all_answered()
    assert [(result.stack, result.action, result.outcome) for result in lifecycle.progress.results] == [("compute-dev", "migrate", "done")]
    assert "compute-dev            migrate in" in out.getvalue()


def command_on_dev(tmp_path, monkeypatch, capsys, name: str, compute_outputs: dict) -> tuple[StubbedClients, Callable[[], tuple[int, str, str]]]:
    """The stubbed clients of `lifecycle <name> dev --target aws` and a function that runs it
    (exit code, stdout, stderr); the first answer is the compute layer's state with `compute_outputs`."""
    clients = StubbedClients()
    # What the command line reads: the environment's settings after FRAUD_* (tests/lifecycle/conftest.py).
    (config,) = read_environments({**os.environ, "FRAUD_ENVIRONMENTS": "dev"})
    clients.stub("s3").add_response("get_object", state_object(state_with_outputs(compute_outputs)),
                                    {"Bucket": config.state.bucket, "Key": "dev/compute.tfstate"})
    monkeypatch.setattr(cli, "TargetClients", lambda target, region: clients)

    def run() -> tuple[int, str, str]:
        code = cli.main([name, "dev", "--target", "aws", "--workdir", str(tmp_path)])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return clients, run


@pytest.fixture
def command(tmp_path, monkeypatch, capsys):
    return command_on_dev(tmp_path, monkeypatch, capsys, "migrate", OUTPUTS)


def test_the_command_exits_1_on_a_failed_migration_printing_why(command):
    clients, run = command
    scenario = Scenario(clients)
    scenario.started("RUNNING")
    scenario.described(task("STOPPED", exit_code=2, stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited"))
    scenario.log("configuration: DB_OWNER_SECRET_ARN or DB_OWNER_CREDENTIALS is required")
    code, out, err = run()
    assert code == cli.EXIT_FAILED
    assert "error: migration task 0f1e2d3c4b5a exited 2 (bad configuration" in err
    assert "| configuration: DB_OWNER_SECRET_ARN or DB_OWNER_CREDENTIALS is required" in err
    assert "compute-dev            migrate FAILED after" in out
    clients.assert_all_answered()


# --- a run that creates the compute layer migrates it --------------------------------------------


class _Recording:
    """The two calls _deploy_then_migrate_a_new_service makes, in order."""

    def __init__(self, compute_deployed: bool, fails: bool = False) -> None:
        self.calls: list[str] = []
        self.compute_deployed = compute_deployed
        self.fails = fails

    def state(self, layer: Layer) -> StateSummary | None:
        assert layer is Layer.COMPUTE
        return StateSummary.parse(state_with_outputs(OUTPUTS)) if self.compute_deployed else None

    def deploy(self, layers: list[Layer]) -> None:
        self.calls.append("deploy " + " ".join(layer.value for layer in layers))
        if self.fails:
            raise GuardRefusal("a producer is missing")


@pytest.mark.parametrize(
    "layers, compute_deployed, migrates",
    [
        (list(Layer), False, True),  # up, the first time
        ([Layer.COMPUTE], False, True),
        (list(Layer), True, False),  # up again: the release migrates from now on
        ([Layer.EDGE, Layer.OBSERVABILITY], False, False),
    ],
)
def test_a_deploy_that_creates_the_compute_layer_migrates_once_it_is_deployed(monkeypatch, layers, compute_deployed, migrates):
    recording = _Recording(compute_deployed)
    monkeypatch.setattr(cli, "migrate", lambda lifecycle, clients: recording.calls.append("migrate"))
    cli._deploy_then_migrate_a_new_service(recording, object(), layers)
    assert recording.calls == ["deploy " + " ".join(layer.value for layer in layers), *(["migrate"] if migrates else [])]


def test_a_deploy_that_fails_migrates_nothing(monkeypatch):
    recording = _Recording(compute_deployed=False, fails=True)
    monkeypatch.setattr(cli, "migrate", lambda lifecycle, clients: recording.calls.append("migrate"))
    with pytest.raises(GuardRefusal):
        cli._deploy_then_migrate_a_new_service(recording, object(), [Layer.COMPUTE])
    assert recording.calls == ["deploy compute"]
