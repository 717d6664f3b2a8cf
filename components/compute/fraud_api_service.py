"""fraud-api on ECS Fargate: the task definition (app + X-Ray sidecar), its two roles, its
log group and the service CodeDeploy deploys blue/green."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceDeploymentController,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
)
from cdktf_cdktf_provider_aws.ecs_task_definition import (
    EcsTaskDefinition,
    EcsTaskDefinitionRuntimePlatform,
    EcsTaskDefinitionVolume,
)
from constructs import Construct

from components.aws_context import AwsContext
from components.compute.public_images import CACHE_PULL_ACTIONS, IMAGE_PULL_ACTIONS, XRAY_DAEMON
from components.naming import IAM_ROLE_NAME_LIMIT, ResourceNamer
from components.security.log_groups import encrypted_log_group
from components.security.policy_statements import allow
from components.security.service_role import ServiceRole, TrustConditions
from config.settings import ComputeSettings, image_registry, is_ecr_registry

CONTAINER_NAME = "fraud-api"
XRAY_CONTAINER_NAME = "xray-daemon"
XRAY_DAEMON_PORT = 2000
# The image's numeric non-root user (services/fraud_api/Dockerfile); the X-Ray image's own.
APP_USER = "10001:10001"
XRAY_USER = "1337"
TASK_CPU_UNITS = 1024  # 1 vCPU
TASK_MEMORY_MIB = 2048  # 2 GB
XRAY_CPU_UNITS = 32
XRAY_MEMORY_MIB = 256
SCRATCH_VOLUME = "tmp"
# ECS's SIGTERM-to-SIGKILL window; the service drains for 20 s (SHUTDOWN_GRACE_SECONDS).
STOP_TIMEOUT_SECONDS = 30
ECS_TASKS = "ecs-tasks.amazonaws.com"
# What Terraform must leave alone once the service exists. CodeDeploy owns the running task
# definition and the live target group, the autoscaler owns the task count (re-asserting them
# would undo a deployment or a scale-out), and under the CODE_DEPLOY controller ECS's UpdateService
# refuses a new network configuration or platform version: those ship with a CodeDeploy deployment
# (docs/aws-first-deploy.md). Tag propagation and managed tags stay Terraform's: ECS accepts them.
CODE_DEPLOY_OWNED_ATTRIBUTES = ("task_definition", "load_balancer", "desired_count", "network_configuration", "platform_version")


# The database role every serving task logs in as, with an IAM token (no password exists). The
# migration step creates it with exactly the grants the queries need (services/fraud_api/README.md,
# "Database roles and schema migrations").
APPLICATION_DATABASE_USER = "fraud_api_app"


@dataclass(frozen=True)
class DatabaseConnection:
    host: str
    port: str
    name: str
    # `cluster-<id>`: what IAM database authentication grants name.
    cluster_resource_id: str
    # The RDS-managed master secret (`{"username","password"}`): the schema owner's login, which only
    # the migration task reads (docs/security.md, "The master secret").
    owner_secret_arn: str


@dataclass(frozen=True)
class TaskSecrets:
    database: DatabaseConnection
    api_config_secret_arn: str
    # The key both secrets are encrypted with.
    secrets_key_arn: str


def decrypt_through_secrets_manager(sid: str, secrets: TaskSecrets, context: AwsContext):
    """`kms:Decrypt` on the secrets' key, only when Secrets Manager asks on the caller's behalf."""
    return allow(
        sid,
        ["kms:Decrypt"],
        [secrets.secrets_key_arn],
        ("StringEquals", "kms:ViaService", [f"secretsmanager.{context.region}.amazonaws.com"]),
    )


def database_user_arn(context: AwsContext, database: DatabaseConnection, user: str) -> str:
    """What `rds-db:connect` is granted on: one database user of one cluster."""
    return context.arn("rds-db", f"dbuser:{database.cluster_resource_id}/{user}")


@dataclass(frozen=True)
class ServicePlacement:
    cluster_arn: str
    cluster_name: str
    subnet_ids: Sequence[str]
    security_group_id: str
    target_group_arn: str


@dataclass(frozen=True)
class ContainerImage:
    """Where the task pulls fraud-api from, and the ECR repository to allow pulling from."""

    uri: str
    ecr_repository_arn: str | None

    @staticmethod
    def resolve(reference: str, context: AwsContext) -> "ContainerImage":
        """A reference without a registry (`fraud-api:1.4.2`, `fraud-api@sha256:...`) names a
        repository in this account's regional ECR; one with a registry host is used as is."""
        first = image_registry(reference)
        if first is not None:
            rest = reference.partition("/")[2]
            if not is_ecr_registry(first):
                return ContainerImage(reference, None)
            # <account>.dkr.ecr.<region>.amazonaws.com: the repository may live in another account.
            account, _, _, region, *_ = first.split(".")
            return ContainerImage(reference, f"arn:{context.partition}:ecr:{region}:{account}:repository/{_repository(rest)}")
        registry = f"{context.account_id}.dkr.ecr.{context.region}.amazonaws.com"
        return ContainerImage(f"{registry}/{reference}", context.arn("ecr", f"repository/{_repository(reference)}"))


def _repository(path: str) -> str:
    """`team/fraud-api:1.2` or `fraud-api@sha256:...` -> the repository name."""
    name = path.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


class FraudApiService(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        context: AwsContext,
        settings: ComputeSettings,
        secrets: TaskSecrets,
        placement: ServicePlacement,
        container_port: int,
        logs_key_arn: str,
        depends_on: Sequence[ITerraformDependable],
    ) -> None:
        super().__init__(scope, construct_id)
        image = ContainerImage.resolve(settings.fraud_api_image, context)
        log_retention_days = settings.fraud_api_log_retention_days
        self.log_group = encrypted_log_group(
            self,
            "log-group",
            name=f"/ecs/{naming.name('api')}",
            retention_days=log_retention_days,
            logs_key_arn=logs_key_arn,
            why_shorter_than_a_year="non-production environments keep container logs shorter",
        )
        self.execution_role, self.task_role = ecs_task_roles(
            self,
            naming=naming,
            context=context,
            execution=RolePurpose(
                "api-execution", "ECS agent for fraud-api: pull the images, write logs", self._execution_statements(image, context, self.log_group.arn)
            ),
            task=RolePurpose(
                "api-task",
                "fraud-api at run time: read the API configuration, log in to the database as its application role, send traces",
                self._task_statements(secrets, context),
            ),
        )

        self.task_definition = fargate_task_definition(
            self,
            "task-definition",
            family=naming.name("api"),
            cpu_units=TASK_CPU_UNITS,
            memory_mib=TASK_MEMORY_MIB,
            roles=(self.execution_role, self.task_role),
            containers=[
                self._app_container(image, secrets, container_port, settings.fraud_api_db_pool_max_size, context),
                self._xray_container(context),
            ],
        )

        self.service = EcsService(
            self,
            "service",
            name=naming.name("api"),
            cluster=placement.cluster_arn,
            task_definition=self.task_definition.arn,
            # The floor of the autoscaler, which owns the count from then on.
            desired_count=settings.fraud_api_min_tasks,
            launch_type="FARGATE",
            platform_version="LATEST",
            deployment_controller=EcsServiceDeploymentController(type="CODE_DEPLOY"),
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=list(placement.subnet_ids),
                security_groups=[placement.security_group_id],
                assign_public_ip=False,
            ),
            load_balancer=[
                EcsServiceLoadBalancer(
                    target_group_arn=placement.target_group_arn, container_name=CONTAINER_NAME, container_port=container_port
                )
            ],
            health_check_grace_period_seconds=60,
            enable_execute_command=False,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            lifecycle=TerraformResourceLifecycle(ignore_changes=list(CODE_DEPLOY_OWNED_ATTRIBUTES)),
            # The target group must be attached to a listener before a service can register in it.
            depends_on=list(depends_on),
        )
        self.service_name = self.service.name
        self.image = image

    @staticmethod
    def _execution_statements(image: ContainerImage, context: AwsContext, log_group_arn: str):
        xray_repository = XRAY_DAEMON.cached_repository_arn(context)
        return [
            *pull_image_statements(image),
            # The X-Ray daemon comes through the account's ECR Public pull-through cache
            # (components/compute/public_images.py), which imports it on the first pull.
            allow("PullXrayDaemonThroughCache", [*IMAGE_PULL_ACTIONS, *CACHE_PULL_ACTIONS], [xray_repository]),
            write_container_logs(log_group_arn),
        ]

    @staticmethod
    def _task_statements(secrets: TaskSecrets, context: AwsContext):
        return [
            # AWSCURRENT at start and on every refresh, AWSPREVIOUS to sign with the previous key
            # during the overlap: both are versions of this one secret.
            allow("ReadApiConfig", ["secretsmanager:GetSecretValue"], [secrets.api_config_secret_arn]),
            decrypt_through_secrets_manager("DecryptApiConfig", secrets, context),
            # The token is signed in the task with these credentials; RDS checks this grant at login.
            allow("ConnectAsApplicationRole", ["rds-db:connect"], [database_user_arn(context, secrets.database, APPLICATION_DATABASE_USER)]),
            # X-Ray has no resource-level permissions for these calls: they must be "*".
            allow(
                "SendTraces",
                ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"],
                ["*"],
            ),
        ]

    def _logging(self, context: AwsContext, prefix: str) -> dict:
        # Never block the app on a slow log API; the buffer absorbs bursts.
        return container_logging(self.log_group.name, context, prefix, blocking=False)

    def _app_container(self, image: ContainerImage, secrets: TaskSecrets, port: int, pool_max_size: int, context: AwsContext) -> dict:
        environment = {
            "PORT": str(port),
            **database_environment(secrets.database, context),
            # Passed explicitly so the task definition says what each task may open against Aurora's
            # connection limit; the capacity model counts it (config/capacity.py).
            "DB_POOL_MAX_SIZE": str(pool_max_size),
            # Read by ARN at start and every few minutes, so a rotation reaches running tasks; no
            # credential is in the task definition, its API responses or Terraform state.
            "API_CONFIG_SECRET_ARN": secrets.api_config_secret_arn,
            "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{XRAY_DAEMON_PORT}",
        }
        return {
            "name": CONTAINER_NAME,
            "image": image.uri,
            "essential": True,
            **hardened_app_container(),
            "portMappings": [{"containerPort": port, "protocol": "tcp"}],
            "environment": [{"name": name, "value": value} for name, value in environment.items()],
            "healthCheck": {
                "command": ["CMD", "python", "-m", "fraud_api.healthcheck"],
                "interval": 15,
                "timeout": 5,
                "retries": 3,
                "startPeriod": 30,
            },
            "stopTimeout": STOP_TIMEOUT_SECONDS,
            "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
            "dependsOn": [{"containerName": XRAY_CONTAINER_NAME, "condition": "START"}],
            "logConfiguration": self._logging(context, CONTAINER_NAME),
        }

    def _xray_container(self, context: AwsContext) -> dict:
        return {
            "name": XRAY_CONTAINER_NAME,
            "image": XRAY_DAEMON.cached_uri(context),
            # Losing traces must not take the API down with it.
            "essential": False,
            "user": XRAY_USER,
            "readonlyRootFilesystem": True,
            "cpu": XRAY_CPU_UNITS,
            "memoryReservation": XRAY_MEMORY_MIB,
            "portMappings": [{"containerPort": XRAY_DAEMON_PORT, "protocol": "udp"}],
            "environment": [{"name": "AWS_REGION", "value": context.region}],
            "linuxParameters": {"capabilities": {"drop": ["ALL"]}},
            "logConfiguration": self._logging(context, XRAY_CONTAINER_NAME),
        }


def fargate_task_definition(
    scope: Construct,
    construct_id: str,
    *,
    family: str,
    cpu_units: int,
    memory_mib: int,
    roles: tuple[ServiceRole, ServiceRole],
    containers: list[dict],
) -> EcsTaskDefinition:
    """A Linux x86-64 Fargate task definition (execution role, task role) with the scratch volume."""
    execution_role, task_role = roles
    return EcsTaskDefinition(
        scope,
        construct_id,
        family=family,
        requires_compatibilities=["FARGATE"],
        network_mode="awsvpc",
        cpu=str(cpu_units),
        memory=str(memory_mib),
        runtime_platform=EcsTaskDefinitionRuntimePlatform(operating_system_family="LINUX", cpu_architecture="X86_64"),
        execution_role_arn=execution_role.arn,
        task_role_arn=task_role.arn,
        # The read-only root filesystem needs somewhere to write: an ephemeral task volume.
        volume=[EcsTaskDefinitionVolume(name=SCRATCH_VOLUME)],
        container_definitions=json.dumps(containers),
    )


def hardened_app_container() -> dict:
    """What every container of the fraud-api image runs with: its numeric non-root user, a read-only
    root filesystem with /tmp on the scratch volume, no Linux capabilities, an init process."""
    return {
        "user": APP_USER,
        "readonlyRootFilesystem": True,
        "mountPoints": [{"sourceVolume": SCRATCH_VOLUME, "containerPath": "/tmp", "readOnly": False}],
        "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
    }


def database_environment(database: DatabaseConnection, context: AwsContext) -> dict[str, str]:
    """How both entry points reach the database and which role serves: the IAM-authenticated
    application role over TLS (IAM logins need at least `require`)."""
    return {
        "DB_HOST": database.host,
        "DB_PORT": database.port,
        "DB_NAME": database.name,
        "DB_SSLMODE": "require",
        "DB_AUTH": "iam",
        "DB_USER": APPLICATION_DATABASE_USER,
        "AWS_REGION": context.region,
    }


@dataclass(frozen=True)
class RolePurpose:
    """One of a task's two roles: its name (before the environment's prefix and suffix), what it is
    for, and what it may do."""

    name: str
    description: str
    statements: Sequence[DataAwsIamPolicyDocumentStatement]


def ecs_task_roles(
    scope: Construct, *, naming: ResourceNamer, context: AwsContext, execution: RolePurpose, task: RolePurpose
) -> tuple[ServiceRole, ServiceRole]:
    """A task's execution role (the ECS agent's) and task role (its code's), children `execution-role`
    and `task-role` of `scope`; both assumed only by ECS on behalf of this account's tasks."""
    trust = TrustConditions(source_account=context.account_id, source_arn_pattern=context.arn("ecs", "*"))
    execution_role, task_role = (
        ServiceRole(
            scope,
            construct_id,
            name=naming.name(purpose.name, max_length=IAM_ROLE_NAME_LIMIT),
            description=purpose.description,
            service_principal=ECS_TASKS,
            trust=trust,
            statements=purpose.statements,
        )
        for construct_id, purpose in (("execution-role", execution), ("task-role", task))
    )
    return execution_role, task_role


def pull_image_statements(image: ContainerImage):
    statements = [
        # GetAuthorizationToken has no resource-level permissions: it must be "*".
        allow("EcrLogin", ["ecr:GetAuthorizationToken"], ["*"]),
    ]
    if image.ecr_repository_arn:
        statements.append(allow("PullFraudApiImage", list(IMAGE_PULL_ACTIONS), [image.ecr_repository_arn]))
    return statements


def write_container_logs(log_group_arn: str):
    return allow("WriteContainerLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:log-stream:*"])


def container_logging(log_group_name: str, context: AwsContext, prefix: str, *, blocking: bool) -> dict:
    options = {"awslogs-group": log_group_name, "awslogs-region": context.region, "awslogs-stream-prefix": prefix}
    if not blocking:
        options |= {"mode": "non-blocking", "max-buffer-size": "4m"}
    return {"logDriver": "awslogs", "options": options}
