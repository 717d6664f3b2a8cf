"""fraud-api's schema migration: a one-off ECS task definition the release runs before traffic moves.

The same image as the service, another command (`python -m fraud_api.migrate`), logging in as the
schema owner with the database's master secret. It is the one task that may read that secret
(docs/security.md, "The master secret"), so it has roles of its own: nothing the serving tasks
hold lets them read it, and nothing this task holds lets it serve. It has no port, no load
balancer and no service; `lifecycle/migration.py` runs it with `ecs run-task` in the application
subnets under its own security group (the network layer's `schema_migration` group) and waits for
its exit code.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from constructs import Construct

from components.aws_context import AwsContext
from components.compute.fraud_api_service import (
    ContainerImage,
    RolePurpose,
    TaskSecrets,
    container_logging,
    database_environment,
    decrypt_through_secrets_manager,
    ecs_task_roles,
    fargate_task_definition,
    hardened_app_container,
    pull_image_statements,
    write_container_logs,
)
from components.naming import ResourceNamer
from components.security.policy_statements import allow

MIGRATION_CONTAINER_NAME = "fraud-api-migrate"
MIGRATION_COMMAND = ("python", "-m", "fraud_api.migrate")
# One Python process holding one connection for seconds: Fargate's smallest size.
MIGRATION_CPU_UNITS = 256
MIGRATION_MEMORY_MIB = 512
# Streams `migrate/fraud-api-migrate/<task id>` in the service's log group, beside its tasks' logs.
MIGRATION_LOG_STREAM_PREFIX = "migrate"


class SchemaMigrationTask(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        context: AwsContext,
        image: ContainerImage,
        secrets: TaskSecrets,
        log_group: CloudwatchLogGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        self.execution_role, self.task_role = ecs_task_roles(
            self,
            naming=naming,
            context=context,
            execution=RolePurpose(
                "api-migrate-execution",
                "ECS agent for the fraud-api schema migration: pull the image, write logs",
                [*pull_image_statements(image), write_container_logs(log_group.arn)],
            ),
            task=RolePurpose(
                "api-migrate",
                "fraud-api schema migration: read the schema owner's login (the master secret), nothing else",
                [
                    allow("ReadSchemaOwnerSecret", ["secretsmanager:GetSecretValue"], [secrets.database.owner_secret_arn]),
                    decrypt_through_secrets_manager("DecryptSchemaOwnerSecret", secrets, context),
                ],
            ),
        )
        environment = {
            # The role to provision and how it logs in (IAM): the same values the service runs with.
            **database_environment(secrets.database, context),
            "DB_OWNER_SECRET_ARN": secrets.database.owner_secret_arn,
        }
        self.task_definition = fargate_task_definition(
            self,
            "task-definition",
            family=naming.name("api-migrate"),
            cpu_units=MIGRATION_CPU_UNITS,
            memory_mib=MIGRATION_MEMORY_MIB,
            roles=(self.execution_role, self.task_role),
            containers=[
                {
                    "name": MIGRATION_CONTAINER_NAME,
                    "image": image.uri,
                    "essential": True,
                    "command": list(MIGRATION_COMMAND),
                    **hardened_app_container(),
                    "environment": [{"name": name, "value": value} for name, value in environment.items()],
                    # Blocking: a short run's last lines (why it failed) must not be dropped.
                    "logConfiguration": container_logging(log_group.name, context, MIGRATION_LOG_STREAM_PREFIX, blocking=True),
                }
            ],
        )
