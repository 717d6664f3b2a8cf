"""Ship the fraud-api revision the compute layer registered: one CodeDeploy blue/green deployment.

The ECS service runs under the CodeDeploy controller, so a Terraform apply only registers a new
task-definition revision; nothing runs it until a CodeDeploy deployment shifts traffic to it.
`lifecycle release <env>` does that after the compute layer applied:

1. reads the compute layer's outputs from its state (task definition, cluster, service, CodeDeploy
   application and deployment group, the schema migration's task definition and network);
2. runs the schema migration task and waits for it to exit 0 (lifecycle/migration.py): every
   revision's schema is in place before any of its tasks starts, and a failed migration releases
   nothing;
3. does nothing more when the service already runs that revision (its primary task set);
4. creates one deployment with an AppSpec built from those outputs and the task definition's
   load-balanced container, reads it back, and waits for it with CodeDeploy's own waiter
   (bounded), printing its status and the traffic on each task set as it goes;
5. fails, naming the deployment and CodeDeploy's reason, when it fails, stops or rolls back.

The promotion workflow releases with aws-actions/amazon-ecs-deploy-task-definition instead; it
registers the task definition from a file, so `prepare` writes the file, the AppSpec and whether
anything is to be released, and runs no migration: the workflow's own `lifecycle migrate` step
does, before the deploy action (docs/lifecycle.md, "Release").
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.migration import MigrationTarget, migrate
from lifecycle.states import GuardRefusal, StateSummary, required_outputs
from stacks.layers import Layer

if TYPE_CHECKING:
    from lifecycle.operations import Lifecycle

# What CodeDeploy's ECS blue/green deployment needs, as the compute stack outputs it.
COMPUTE_OUTPUTS = (
    "fraud_api_task_definition_arn",
    "codedeploy_application_name",
    "codedeploy_deployment_group_name",
    "ecs_cluster_name",
    "ecs_service_name",
)
# A deployment in one of these still holds the deployment group: CodeDeploy runs one at a time.
ACTIVE_STATUSES = ("Created", "Queued", "InProgress", "Baking", "Ready")
# What DescribeTaskDefinition returns that is not part of the definition itself (and that
# RegisterTaskDefinition refuses): two revisions equal without these run the same thing.
REGISTRATION_FIELDS = frozenset({
    "taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
    "registeredAt", "registeredBy", "deregisteredAt",
})
# Beyond the deployment group's own waits (ready, blue termination): the canary or linear shift
# and the tasks' start. The same margin aws-actions/amazon-ecs-deploy-task-definition adds.
DEFAULT_WAIT_MINUTES = 30
POLL_SECONDS = 15
# Waiter checks between two progress lines (so a line every 30 s while nothing else changes).
CHECKS_PER_REPORT = 3
EMULATOR_NEVER_DEPLOYS = (
    "the emulator (moto) keeps every CodeDeploy deployment at Created: it never starts tasks or shifts "
    "traffic, so there is nothing to wait for. On AWS, release waits for the deployment to succeed"
)


class ReleaseFailed(Exception):
    """The deployment failed, stopped, rolled back or did not finish in time; the message names it and why."""


@dataclass(frozen=True)
class ReleaseTarget:
    """The compute layer's outputs that say what to release, and where."""

    task_definition_arn: str
    application_name: str
    deployment_group_name: str
    cluster_name: str
    service_name: str

    @classmethod
    def from_state(cls, state: StateSummary | None, stack: str) -> ReleaseTarget:
        outputs = required_outputs(state, stack, COMPUTE_OUTPUTS, missing="no task definition to release")
        omitted = [name for name in COMPUTE_OUTPUTS if str(outputs[name]).startswith("emulator-omitted:")]
        if omitted:
            raise GuardRefusal(
                f"{stack} in this emulator has no CodeDeploy application or deployment group (config/targets.py EMULATOR_GAPS "
                f"left them out; its outputs {', '.join(omitted)} say {outputs[omitted[0]]}): there is nothing to release through."
            )
        return cls(*(str(outputs[name]) for name in COMPUTE_OUTPUTS))

    @property
    def deployment_target_id(self) -> str:
        """CodeDeploy names an ECS deployment's one target `<cluster>:<service>`."""
        return f"{self.cluster_name}:{self.service_name}"


@dataclass(frozen=True)
class LoadBalancedContainer:
    name: str
    port: int


@dataclass(frozen=True)
class ReleasePlan:
    target: ReleaseTarget
    container: LoadBalancedContainer
    # The revision the service's primary task set runs (None before its first task set).
    running_task_definition_arn: str | None
    # The requested revision, as RegisterTaskDefinition takes it (with its tags).
    task_definition: dict[str, Any]
    unchanged: bool
    active_deployment_id: str | None = None

    @property
    def appspec(self) -> dict[str, Any]:
        return build_appspec(self.target.task_definition_arn, self.container)


def build_appspec(task_definition_arn: str, container: LoadBalancedContainer) -> dict[str, Any]:
    """The AppSpec of an ECS blue/green deployment; the rest (network, target groups) comes from the service and the group."""
    return {
        "version": 0.0,
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": task_definition_arn,
                        "LoadBalancerInfo": {"ContainerName": container.name, "ContainerPort": container.port},
                    },
                }
            }
        ],
    }


def short_revision(arn: str | None) -> str:
    """`arn:aws:ecs:...:task-definition/fraud-api-dev:7` -> `fraud-api-dev:7`."""
    return "none" if not arn else arn.rsplit("/", 1)[-1]


@dataclass
class Release:
    ecs: Any
    codedeploy: Any
    say: Callable[[str], None]
    is_emulator: bool = False
    poll_seconds: float = POLL_SECONDS
    clock: Callable[[], float] = time.monotonic

    # --- what to do -------------------------------------------------------------------------

    def plan(self, target: ReleaseTarget) -> ReleasePlan:
        requested = self._task_definition(target.task_definition_arn)
        service = self._service(target)
        container = load_balanced_container(requested, service)
        running = running_task_definition(service)
        unchanged = self._same_revision(running, requested)
        active = None if unchanged else self._active_deployment(target, requested)
        return ReleasePlan(
            target=target,
            container=container,
            running_task_definition_arn=running,
            task_definition={key: value for key, value in requested.items() if key not in REGISTRATION_FIELDS},
            unchanged=unchanged,
            active_deployment_id=active,
        )

    def describe(self, plan: ReleasePlan) -> None:
        target = plan.target
        self.say(f"service {target.cluster_name}/{target.service_name} runs {short_revision(plan.running_task_definition_arn)}")
        self.say(f"requested {short_revision(target.task_definition_arn)} (container {plan.container.name}:{plan.container.port})")
        if plan.unchanged:
            self.say("the service already runs the requested revision: nothing to release")

    # --- doing it ---------------------------------------------------------------------------

    def run(self, plan: ReleasePlan, *, wait_minutes: int = DEFAULT_WAIT_MINUTES) -> str | None:
        """Release `plan`; returns the deployment id (None when nothing was to be released)."""
        self.describe(plan)
        if plan.unchanged:
            return None
        target = plan.target
        if plan.active_deployment_id:
            self.say(f"deployment {plan.active_deployment_id} is already rolling out this revision: not creating another")
            deployment_id = plan.active_deployment_id
        else:
            content = json.dumps(plan.appspec, sort_keys=True)
            deployment_id = self.codedeploy.create_deployment(
                applicationName=target.application_name,
                deploymentGroupName=target.deployment_group_name,
                revision={
                    "revisionType": "AppSpecContent",
                    "appSpecContent": {"content": content, "sha256": hashlib.sha256(content.encode()).hexdigest()},
                },
                description=f"lifecycle release: {short_revision(target.task_definition_arn)}",
            )["deploymentId"]
            self.say(f"deployment {deployment_id} created in {target.application_name}/{target.deployment_group_name}")
        info = self.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        self.say(f"deployment {deployment_id}: {info['status']}")
        if self.is_emulator:
            self.say(f"not waiting: {EMULATOR_NEVER_DEPLOYS}")
            return deployment_id
        self.wait(target, deployment_id, minutes=self._wait_bound(target, wait_minutes))
        return deployment_id

    def wait(self, target: ReleaseTarget, deployment_id: str, *, minutes: int) -> dict[str, Any]:
        """CodeDeploy's `deployment_successful` waiter, a few checks at a time, with a progress line in between."""
        from botocore.exceptions import WaiterError

        waiter = self.codedeploy.get_waiter("deployment_successful")
        deadline = self.clock() + minutes * 60
        self.say(f"waiting for {deployment_id} (at most {minutes} min)")
        last = ""
        while True:
            try:
                waiter.wait(deploymentId=deployment_id, WaiterConfig={"Delay": self.poll_seconds, "MaxAttempts": CHECKS_PER_REPORT})
            except WaiterError as error:
                info = (error.last_response or {}).get("deploymentInfo")
                if info is None or not str(error.kwargs.get("reason", "")).startswith("Max attempts exceeded"):
                    raise ReleaseFailed(describe_failure(deployment_id, info, str(error))) from None
                line = self._progress(target, info)
                if line != last:
                    self.say(line)
                    last = line
                if self.clock() >= deadline:
                    raise ReleaseFailed(
                        f"deployment {deployment_id} is still {info['status']} after {minutes} min; it goes on in CodeDeploy. "
                        f"Watch it (aws deploy get-deployment --deployment-id {deployment_id}) or stop it and roll back "
                        f"(aws deploy stop-deployment --deployment-id {deployment_id} --auto-rollback-enabled)"
                    ) from None
                continue
            info = self.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            self.say(self._progress(target, info))
            return info

    # --- reading AWS --------------------------------------------------------------------------

    def _task_definition(self, arn: str) -> dict[str, Any]:
        answer = self.ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
        definition = dict(answer["taskDefinition"])
        if answer.get("tags"):
            definition["tags"] = answer["tags"]
        return definition

    def _same_revision(self, arn: str | None, requested: dict[str, Any]) -> bool:
        """The same revision, or one registered with the same definition (the workflow's deploy action
        registers its own copy of the compute layer's revision, so the service may run that copy)."""
        if arn is None:
            return False
        if arn == requested["taskDefinitionArn"]:
            return True
        return _definition(self._task_definition(arn)) == _definition(requested)

    def _service(self, target: ReleaseTarget) -> dict[str, Any]:
        answer = self.ecs.describe_services(cluster=target.cluster_name, services=[target.service_name])
        services = [service for service in answer.get("services", []) if service.get("status") == "ACTIVE"]
        if not services:
            reasons = "; ".join(f"{failure.get('arn')}: {failure.get('reason')}" for failure in answer.get("failures", []))
            raise GuardRefusal(
                f"ECS service {target.service_name} is not active in cluster {target.cluster_name}"
                f"{f' ({reasons})' if reasons else ''}: deploy the compute layer first."
            )
        return services[0]

    def _active_deployment(self, target: ReleaseTarget, requested: dict[str, Any]) -> str | None:
        """A deployment of the requested revision already under way (to wait for); refuses one of another revision."""
        active = self.codedeploy.list_deployments(
            applicationName=target.application_name,
            deploymentGroupName=target.deployment_group_name,
            includeOnlyStatuses=list(ACTIVE_STATUSES),
        ).get("deployments", [])
        for deployment_id in active:
            info = self.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            if self._same_revision(deployed_task_definition(info), requested):
                return deployment_id
            if self.is_emulator:
                # Never finishes there, so it would hold the group forever; the emulator does not enforce it.
                self.say(f"deployment {deployment_id} is still {info['status']} in the emulator (it never completes there): ignored")
                continue
            raise GuardRefusal(
                f"deployment {deployment_id} ({info['status']}) is still rolling out {short_revision(deployed_task_definition(info))} "
                f"and CodeDeploy runs one deployment per group at a time. Wait for it "
                f"(aws deploy wait deployment-successful --deployment-id {deployment_id}), or stop it and roll back "
                f"(aws deploy stop-deployment --deployment-id {deployment_id} --auto-rollback-enabled), then release again."
            )
        return None

    def _wait_bound(self, target: ReleaseTarget, wait_minutes: int) -> int:
        group = self.codedeploy.get_deployment_group(
            applicationName=target.application_name, deploymentGroupName=target.deployment_group_name
        )["deploymentGroupInfo"]
        blue_green = group.get("blueGreenDeploymentConfiguration", {})
        ready = blue_green.get("deploymentReadyOption", {}).get("waitTimeInMinutes", 0)
        termination = blue_green.get("terminateBlueInstancesOnDeploymentSuccess", {}).get("terminationWaitTimeInMinutes", 0)
        return int(ready) + int(termination) + wait_minutes

    def _progress(self, target: ReleaseTarget, info: dict[str, Any]) -> str:
        return f"deployment {info['deploymentId']}: {info['status']}; {self._traffic(target, info['deploymentId'])}"

    def _traffic(self, target: ReleaseTarget, deployment_id: str) -> str:
        from botocore.exceptions import ClientError

        try:
            found = self.codedeploy.get_deployment_target(deploymentId=deployment_id, targetId=target.deployment_target_id)
        except ClientError as error:
            # Before the deployment starts there is no target (and no traffic to report).
            return f"traffic: not shifted yet ({error.response.get('Error', {}).get('Code', 'no target')})"
        return describe_traffic(found.get("deploymentTarget", {}).get("ecsTarget", {}))


def load_balanced_container(task_definition: dict[str, Any], service: dict[str, Any]) -> LoadBalancedContainer:
    """The container CodeDeploy puts behind the target groups: the task definition's one TCP port mapping,
    which must be the one the service registers with its load balancer."""
    candidates = [
        LoadBalancedContainer(container["name"], int(mapping["containerPort"]))
        for container in task_definition.get("containerDefinitions", [])
        for mapping in container.get("portMappings", [])
        if mapping.get("protocol", "tcp") == "tcp"
    ]
    registered = {
        LoadBalancedContainer(balancer["containerName"], int(balancer["containerPort"]))
        for balancer in service.get("loadBalancers", [])
        if balancer.get("containerName")
    }
    if registered:
        candidates = [candidate for candidate in candidates if candidate in registered]
    if len(candidates) != 1:
        found = ", ".join(f"{c.name}:{c.port}" for c in candidates) or "none"
        raise ReleaseFailed(
            f"task definition {short_revision(task_definition.get('taskDefinitionArn'))} must have exactly one TCP port mapping "
            f"that the service's load balancer uses; found {found}"
        )
    return candidates[0]


def running_task_definition(service: dict[str, Any]) -> str | None:
    """The revision serving traffic: the primary task set's (CodeDeploy controller), else the service's own."""
    primary = [task_set for task_set in service.get("taskSets", []) if task_set.get("status") == "PRIMARY"]
    if primary:
        return str(primary[0]["taskDefinition"])
    return service.get("taskDefinition")


def deployed_task_definition(info: dict[str, Any]) -> str | None:
    """The task definition an ECS deployment's AppSpec names."""
    content = info.get("revision", {}).get("appSpecContent", {}).get("content")
    if not content:
        return None
    try:
        appspec = json.loads(content)
    except ValueError:
        return None  # a YAML AppSpec from elsewhere: not ours to read
    for resource in appspec.get("Resources", []):
        for body in resource.values():
            return body.get("Properties", {}).get("TaskDefinition")
    return None


def describe_traffic(ecs_target: dict[str, Any]) -> str:
    task_sets = sorted(ecs_target.get("taskSetsInfo", []), key=lambda task_set: task_set.get("taskSetLabel", ""))
    if not task_sets:
        return "traffic: no task sets yet"
    shares = [
        f"{task_set.get('taskSetLabel', '?').lower()} {float(task_set.get('trafficWeight', 0)):g}% "
        f"({task_set.get('runningCount', 0)}/{task_set.get('desiredCount', 0)} tasks)"
        for task_set in task_sets
    ]
    return "traffic: " + ", ".join(shares)


def describe_failure(deployment_id: str, info: dict[str, Any] | None, waiter_reason: str) -> str:
    if info is None:
        return f"deployment {deployment_id}: {waiter_reason}"
    error = info.get("errorInformation") or {}
    reason = ": ".join(part for part in (error.get("code"), error.get("message")) if part) or "CodeDeploy gave no reason"
    text = f"deployment {deployment_id} {info.get('status')}: {reason}"
    rollback = info.get("rollbackInfo") or {}
    if rollback.get("rollbackDeploymentId"):
        text += f"; rolled back by deployment {rollback['rollbackDeploymentId']}"
        if rollback.get("rollbackMessage"):
            text += f" ({rollback['rollbackMessage']})"
    return text + ". The service keeps serving the previous revision (docs/lifecycle.md, \"Release\")"


def _definition(task_definition: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in task_definition.items() if key not in REGISTRATION_FIELDS and key != "tags"}


# --- the command ----------------------------------------------------------------------------


def release(
    lifecycle: Lifecycle,
    clients: Any,
    *,
    prepare: Path | None = None,
    image: str | None = None,
    wait_minutes: int = DEFAULT_WAIT_MINUTES,
) -> None:
    """`lifecycle release <env>`: release the compute layer's revision, or with `prepare`, only write what the workflow's action needs.

    `image`: refuse unless the revision runs exactly this image (the digest promotion built).
    """
    stack = lifecycle.stack(Layer.COMPUTE)
    state = lifecycle.state(Layer.COMPUTE)
    target = ReleaseTarget.from_state(state, stack)
    migration = MigrationTarget.from_state(state, stack)
    progress = lifecycle.progress
    where = f"the emulator at {lifecycle.target.emulator_endpoint}" if lifecycle.target.is_emulator else "AWS"
    progress.section(f"release {lifecycle.environment.name} on {where}: {short_revision(target.task_definition_arn)} "
                     f"through CodeDeploy {target.application_name}/{target.deployment_group_name}")
    runner = Release(ecs=clients.client("ecs"), codedeploy=clients.client("codedeploy"), say=progress.note, is_emulator=lifecycle.target.is_emulator)
    plan = runner.plan(target)
    if image is not None:
        check_image(plan, image, stack)
    if prepare is not None:
        if plan.active_deployment_id:
            # The deploy action always starts a deployment; CodeDeploy would refuse a second one.
            raise GuardRefusal(
                f"deployment {plan.active_deployment_id} is already rolling out this revision: wait for it "
                f"(aws deploy wait deployment-successful --deployment-id {plan.active_deployment_id}), then release again"
            )
        runner.describe(plan)
        write_prepared(plan, prepare)
        progress.note(f"written for the workflow's deploy action: {', '.join(sorted(p.name for p in prepare.iterdir()))} in {prepare}")
        return
    # Before anything of the new revision runs, and also when nothing is to be deployed: a first
    # deploy's service runs the compute layer's revision already and waits for its schema.
    migrate(lifecycle, clients, target=migration)
    progress.start(stack, "release")
    try:
        deployment_id = runner.run(plan, wait_minutes=wait_minutes)
    except ReleaseFailed as failure:
        progress.failed(stack, "release", detail=str(failure))
        raise
    progress.done(stack, "release", detail="nothing to release" if deployment_id is None else f"deployment {deployment_id}")


def check_image(plan: ReleasePlan, expected: str, stack: str) -> None:
    running = next(
        (container.get("image", "") for container in plan.task_definition.get("containerDefinitions", []) if container.get("name") == plan.container.name),
        "",
    )
    # The synthesized image names this account's registry; promotion speaks of `fraud-api@sha256:...`.
    if running != expected and not running.endswith("/" + expected):
        raise GuardRefusal(
            f"{stack}'s revision {short_revision(plan.target.task_definition_arn)} runs {running or 'no image'} in {plan.container.name}, "
            f"not {expected}: deploy the compute layer from stacks synthesized with FRAUD_API_IMAGE={expected} first"
        )


# Files `release --prepare DIR` writes; the workflow reads `outputs` into its step outputs.
PREPARED_TASK_DEFINITION = "task-definition.json"
PREPARED_APPSPEC = "appspec.json"
PREPARED_OUTPUTS = "outputs"


def write_prepared(plan: ReleasePlan, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / PREPARED_TASK_DEFINITION).write_text(json.dumps(plan.task_definition, indent=2, default=str))
    (directory / PREPARED_APPSPEC).write_text(json.dumps(plan.appspec, indent=2))
    outputs = {
        "changed": "false" if plan.unchanged else "true",
        "task-definition-arn": plan.target.task_definition_arn,
        "cluster": plan.target.cluster_name,
        "service": plan.target.service_name,
        "codedeploy-application": plan.target.application_name,
        "codedeploy-deployment-group": plan.target.deployment_group_name,
    }
    (directory / PREPARED_OUTPUTS).write_text("".join(f"{key}={value}\n" for key, value in outputs.items()))
