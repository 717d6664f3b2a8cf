"""Run fraud-api's schema migration once, as the schema owner, before traffic moves to a new revision.

`python -m fraud_api.migrate` runs as a one-off ECS task of its own (components/compute/schema_migration.py):
the service's image, the owner's login from the master secret, which no serving task can read
(docs/security.md, "The master secret and the database roles"). `lifecycle migrate <env>` (the
workflow's step before its deploy action), `release <env>` before its CodeDeploy deployment, and
`up`/`deploy` when they have just created the compute layer:

1. read the compute layer's outputs (the migration's task definition, subnets and security group,
   the cluster and the service);
2. `ecs run-task` it on Fargate in those subnets with that group and no public address;
3. read it back and wait for it to stop (bounded), printing each status it passes through;
4. fail unless its container exited 0, naming the task, the exit code (2 bad configuration, 3 the
   migration failed and changed nothing), ECS's stopped reason and the last lines of its log; at
   the bound, stop it (its one transaction rolls back, releasing its locks) and fail;
5. after a first deploy, when the service runs the compute layer's own revision and is not steady
   (its tasks exit 3 until the schema exists, and no deployment will follow to start new ones),
   wait (bounded) until its tasks run and pass their health checks.

On the emulator moto's ECS runs no container and invents the task's later states and exit code:
the task is started and read back, and nothing is waited for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.states import GuardRefusal, StateSummary, required_outputs
from stacks.layers import Layer

if TYPE_CHECKING:
    from lifecycle.operations import Lifecycle

# What running the migration needs, as the compute stack outputs it.
MIGRATION_OUTPUTS = (
    "fraud_api_migration_task_definition_arn",
    "fraud_api_migration_subnet_ids",
    "fraud_api_migration_security_group_id",
    "ecs_cluster_name",
    "ecs_service_name",
    "fraud_api_task_definition_arn",
)
# Fargate's start (image pull included) plus a migration, with room: the step is seconds of SQL.
DEFAULT_WAIT_MINUTES = 15
# How long a first deploy's tasks may take to start and pass their health checks once the schema exists.
SERVICE_WAIT_MINUTES = 10
POLL_SECONDS = 10
STARTED_BY = "lifecycle-migrate"
LOG_LINES_SHOWN = 20
EXIT_MEANINGS = {
    2: "bad configuration: a variable is missing or wrong (the log names it)",
    3: "the migration failed: its one transaction rolled back, nothing changed",
}
EMULATOR_RUNS_NO_CONTAINERS = (
    "the emulator (moto) runs no container: it moves the task through made-up states to a made-up exit code, so there is "
    "nothing to wait for. On AWS, migrate waits for the task and fails unless it exits 0"
)


class MigrationFailed(Exception):
    """The migration task did not start, did not exit 0, or did not finish in time; the message says which and why."""


@dataclass(frozen=True)
class MigrationTarget:
    """The compute layer's outputs that say what to run, where, and which service waits for it."""

    task_definition_arn: str
    subnet_ids: tuple[str, ...]
    security_group_id: str
    cluster_name: str
    service_name: str
    # The serving revision the compute layer registered: on a first deploy, the one the service runs.
    serving_task_definition_arn: str

    @classmethod
    def from_state(cls, state: StateSummary | None, stack: str) -> MigrationTarget:
        outputs = required_outputs(state, stack, MIGRATION_OUTPUTS, missing="no migration task to run")
        return cls(
            task_definition_arn=str(outputs["fraud_api_migration_task_definition_arn"]),
            subnet_ids=tuple(str(subnet) for subnet in outputs["fraud_api_migration_subnet_ids"]),
            security_group_id=str(outputs["fraud_api_migration_security_group_id"]),
            cluster_name=str(outputs["ecs_cluster_name"]),
            service_name=str(outputs["ecs_service_name"]),
            serving_task_definition_arn=str(outputs["fraud_api_task_definition_arn"]),
        )


@dataclass(frozen=True)
class MigrationContainer:
    """The task definition's one container, and where its log goes."""

    name: str
    image: str
    log_group: str | None
    log_stream_prefix: str | None

    def log_stream(self, task_id: str) -> str | None:
        return f"{self.log_stream_prefix}/{self.name}/{task_id}" if self.log_stream_prefix else None


def _status(task: dict[str, Any] | None) -> str:
    return "not visible yet" if task is None else str(task.get("lastStatus", "?"))


def short_revision(arn: str) -> str:
    """`arn:aws:ecs:...:task-definition/fraud-api-migrate-dev:3` -> `fraud-api-migrate-dev:3`."""
    return arn.rsplit("/", 1)[-1]


def task_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


@dataclass
class Migration:
    ecs: Any
    say: Callable[[str], None]
    logs: Any = None
    is_emulator: bool = False
    poll_seconds: float = POLL_SECONDS
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def run(self, target: MigrationTarget, *, wait_minutes: int = DEFAULT_WAIT_MINUTES, service_wait_minutes: int = SERVICE_WAIT_MINUTES) -> str:
        """Run the migration task; returns its ARN once it exited 0 (on the emulator: once it was read back)."""
        container = self._container(target.task_definition_arn)
        self.say(f"{short_revision(target.task_definition_arn)} runs {container.image} in {target.cluster_name}")
        arn = self._start(target)
        self.say(f"migration task {task_id(arn)}: {_status(self._describe(target, arn))}")
        if self.is_emulator:
            self.say(f"not waiting: {EMULATOR_RUNS_NO_CONTAINERS}")
            return arn
        stopped = self._wait(target, arn, minutes=wait_minutes)
        self._judge(stopped, container)
        self.say(f"migration task {task_id(arn)} exited 0: the schema is current and the application role provisioned")
        self._await_first_serving(target, minutes=service_wait_minutes)
        return arn

    # --- the task -------------------------------------------------------------------------------

    def _container(self, task_definition_arn: str) -> MigrationContainer:
        definition = self.ecs.describe_task_definition(taskDefinition=task_definition_arn)["taskDefinition"]
        containers = definition.get("containerDefinitions", [])
        if len(containers) != 1:
            raise MigrationFailed(f"{short_revision(task_definition_arn)} must have exactly one container, the migration; found {len(containers)}")
        (container,) = containers
        options = container.get("logConfiguration", {}).get("options", {})
        return MigrationContainer(container["name"], container.get("image", ""), options.get("awslogs-group"), options.get("awslogs-stream-prefix"))

    def _start(self, target: MigrationTarget) -> str:
        from botocore.exceptions import ClientError

        try:
            answer = self._run_task(target)
        except ClientError as error:
            raise MigrationFailed(
                f"ECS refused to run the migration task {short_revision(target.task_definition_arn)} in {target.cluster_name}: {error}; "
                "nothing was released"
            ) from None
        tasks, failures = answer.get("tasks", []), answer.get("failures", [])
        if failures or len(tasks) != 1:
            reasons = "; ".join(f"{failure.get('arn', '?')}: {failure.get('reason')} {failure.get('detail') or ''}".strip() for failure in failures)
            raise MigrationFailed(
                f"ECS did not start the migration task {short_revision(target.task_definition_arn)} in {target.cluster_name}"
                f" ({reasons or f'{len(tasks)} tasks started'}); nothing was released"
            )
        arn = str(tasks[0]["taskArn"])
        self.say(f"migration task {task_id(arn)} started (subnets {', '.join(target.subnet_ids)}; security group {target.security_group_id})")
        return arn

    def _run_task(self, target: MigrationTarget) -> dict[str, Any]:
        return self.ecs.run_task(
            cluster=target.cluster_name,
            taskDefinition=target.task_definition_arn,
            count=1,
            launchType="FARGATE",
            platformVersion="LATEST",
            startedBy=STARTED_BY,
            propagateTags="TASK_DEFINITION",
            enableECSManagedTags=True,
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": list(target.subnet_ids),
                    "securityGroups": [target.security_group_id],
                    "assignPublicIp": "DISABLED",
                }
            },
        )

    def _describe(self, target: MigrationTarget, arn: str) -> dict[str, Any] | None:
        """The task as ECS describes it now; None while a task just started is not visible yet (ECS is eventually consistent)."""
        tasks = self.ecs.describe_tasks(cluster=target.cluster_name, tasks=[arn]).get("tasks", [])
        return tasks[0] if tasks else None

    def _wait(self, target: MigrationTarget, arn: str, *, minutes: int) -> dict[str, Any]:
        deadline = self.clock() + minutes * 60
        self.say(f"waiting for migration task {task_id(arn)} to stop (at most {minutes} min)")
        last = ""
        while True:
            task = self._describe(target, arn)
            status = _status(task)
            if status != last:
                if last:
                    self.say(f"migration task {task_id(arn)}: {status}")
                last = status
            if task is not None and status == "STOPPED":
                return task
            if self.clock() >= deadline:
                self._stop(target, arn, minutes)
                raise MigrationFailed(
                    f"migration task {task_id(arn)} was still {status} after {minutes} min: stopped it (an unfinished migration "
                    f"rolls back, releasing its locks); nothing was released. Look at its log and the database's locks, then run it again"
                )
            self.sleep(self.poll_seconds)

    def _stop(self, target: MigrationTarget, arn: str, minutes: int) -> None:
        from botocore.exceptions import ClientError

        try:
            self.ecs.stop_task(cluster=target.cluster_name, task=arn, reason=f"{STARTED_BY}: not finished after {minutes} min")
        except ClientError as error:
            self.say(f"could not stop migration task {task_id(arn)} ({error}): stop it by hand, aws ecs stop-task --cluster {target.cluster_name} --task {arn}")

    def _judge(self, task: dict[str, Any], container: MigrationContainer) -> None:
        arn = str(task["taskArn"])
        containers = task.get("containers", [])
        codes = [each.get("exitCode") for each in containers]
        if containers and all(code == 0 for code in codes):
            return
        (ran,) = [each for each in containers if each.get("name") == container.name] or [{}]
        code = ran.get("exitCode")
        why = [f"ECS: {task.get('stopCode', 'no stop code')}: {task.get('stoppedReason') or 'no reason given'}"]
        if ran.get("reason"):
            why.append(f"container: {ran['reason']}")
        if code is None:
            head = f"migration task {task_id(arn)} stopped before its container ran"
        else:
            head = f"migration task {task_id(arn)} exited {code} ({EXIT_MEANINGS.get(code, 'unexpected exit code')})"
        stream = container.log_stream(task_id(arn))
        where = f"its log: {container.log_group}, stream {stream}" if stream and container.log_group else "it has no awslogs configuration"
        lines = self._log_tail(container.log_group, stream) if code is not None else []
        tail = "".join(f"\n      | {line}" for line in lines)
        raise MigrationFailed(f"{head}; {'; '.join(why)}. Nothing was released: the service keeps its current revision. See {where}{tail}")

    def _log_tail(self, group: str | None, stream: str | None) -> list[str]:
        """The last lines the migration logged (the cause is the last one); best effort: reading them must not hide the failure."""
        if self.logs is None or not group or not stream:
            return []
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            events = self.logs.get_log_events(logGroupName=group, logStreamName=stream, limit=LOG_LINES_SHOWN, startFromHead=False)["events"]
        except (BotoCoreError, ClientError) as error:
            return [f"(its log could not be read: {error})"]
        return [str(event.get("message", "")).rstrip() for event in events]

    # --- a first deploy's service ---------------------------------------------------------------

    def _await_first_serving(self, target: MigrationTarget, *, minutes: int) -> None:
        """After a first deploy nothing else starts the service's tasks: wait until they serve."""
        primary = self._primary_task_set(target)
        if primary is None or primary.get("taskDefinition") != target.serving_task_definition_arn:
            return  # a deployment of the new revision follows (or already ran): CodeDeploy waits for it
        if primary.get("stabilityStatus") == "STEADY_STATE":
            return
        self.say(
            f"first deploy: service {target.service_name} runs {short_revision(target.serving_task_definition_arn)}, whose tasks exit 3 "
            f"until the schema exists; waiting up to {minutes} min for them to run and pass their health checks"
        )
        deadline = self.clock() + minutes * 60
        last = ""
        while True:
            line = f"service {target.service_name}: {primary.get('runningCount', 0)}/{primary.get('computedDesiredCount', 0)} tasks running, {primary.get('stabilityStatus', '?')}"
            if line != last:
                self.say(line)
                last = line
            if primary.get("stabilityStatus") == "STEADY_STATE":
                return
            if self.clock() >= deadline:
                raise MigrationFailed(
                    f"the migration succeeded, but service {target.service_name} did not become steady in {minutes} min ({line}). "
                    f"Why its tasks stop: aws ecs describe-services --cluster {target.cluster_name} --services {target.service_name} "
                    f"--query 'services[0].events[:10]', and its stopped tasks' stoppedReason"
                )
            self.sleep(self.poll_seconds)
            primary = self._primary_task_set(target) or {}

    def _primary_task_set(self, target: MigrationTarget) -> dict[str, Any] | None:
        services = self.ecs.describe_services(cluster=target.cluster_name, services=[target.service_name]).get("services", [])
        active = [service for service in services if service.get("status") == "ACTIVE"]
        if not active:
            raise GuardRefusal(f"ECS service {target.service_name} is not active in cluster {target.cluster_name}: deploy the compute layer first.")
        primary = [task_set for task_set in active[0].get("taskSets", []) if task_set.get("status") == "PRIMARY"]
        return primary[0] if primary else None


# --- the command ------------------------------------------------------------------------------


def migrate(lifecycle: Lifecycle, clients: Any, *, wait_minutes: int = DEFAULT_WAIT_MINUTES, target: MigrationTarget | None = None) -> str:
    """`lifecycle migrate <env>`: run the migration task from the compute layer's outputs as one step of the run."""
    stack = lifecycle.stack(Layer.COMPUTE)
    target = target or MigrationTarget.from_state(lifecycle.state(Layer.COMPUTE), stack)
    progress = lifecycle.progress
    runner = Migration(
        ecs=clients.client("ecs"), logs=clients.client("logs"), say=progress.note, is_emulator=lifecycle.target.is_emulator
    )
    progress.start(stack, "migrate")
    try:
        arn = runner.run(target, wait_minutes=wait_minutes)
    except (MigrationFailed, GuardRefusal) as failure:
        progress.failed(stack, "migrate", detail=str(failure).split(";", 1)[0])
        raise
    progress.done(stack, "migrate", detail=f"task {task_id(arn)}")
    return arn
