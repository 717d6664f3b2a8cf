"""The schema migration task on its own: what it runs, and what its roles may do for an image in
this account's ECR and for one elsewhere."""

from __future__ import annotations

import json

import pytest

from components.compute.fraud_api_service import ContainerImage, DatabaseConnection, TaskSecrets
from components.compute.schema_migration import MIGRATION_COMMAND, SchemaMigrationTask

SECRETS = TaskSecrets(
    database=DatabaseConnection(
        host="aurora.cluster-abc.eu-west-1.rds.amazonaws.com",
        port="5432",
        name="frauddb",
        cluster_resource_id="cluster-ABCDEFGHIJKL",
        owner_secret_arn="arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!cluster-1234-Ab12Cd",
    ),
    api_config_secret_arn="arn:aws:secretsmanager:eu-west-1:111122223333:secret:fraud-api-config-test-Zz98Yy",
    secrets_key_arn="arn:aws:kms:eu-west-1:111122223333:key/storage",
)


def _statements(config: dict, role_name: str) -> dict[str, dict]:
    roles = {logical_id: body["name"] for logical_id, body in config["resource"]["aws_iam_role"].items()}
    (policy,) = [body for body in config["resource"]["aws_iam_role_policy"].values() if roles[body["role"].split(".")[1]] == role_name]
    document = policy["policy"].split(".")[2]
    return {statement["sid"]: statement for statement in config["data"]["aws_iam_policy_document"][document]["statement"]}


@pytest.mark.parametrize(
    "image, pulls_from",
    [
        (ContainerImage("111122223333.dkr.ecr.eu-west-1.amazonaws.com/fraud-api:1", "arn:aws:ecr:eu-west-1:111122223333:repository/fraud-api"), True),
        # A public registry needs no ECR permission: only the (account-wide) registry login stays.
        (ContainerImage("public.ecr.aws/acme/fraud-api:1", None), False),
    ],
)
def test_the_migration_runs_the_image_as_the_owner_with_roles_of_its_own(bare_stack, naming, image, pulls_from):
    from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup

    from components.aws_context import AwsContext

    stack, synth = bare_stack
    log_group = CloudwatchLogGroup(stack, "logs", name="/ecs/fraud-api-test")
    SchemaMigrationTask(stack, "migration", naming=naming, context=AwsContext(stack, "context"), image=image, secrets=SECRETS, log_group=log_group)
    config = synth()

    (task,) = config["resource"]["aws_ecs_task_definition"].values()
    assert task["family"] == "fraud-api-migrate-test"
    (container,) = json.loads(task["container_definitions"])
    assert container["image"] == image.uri and container["command"] == list(MIGRATION_COMMAND)
    environment = {item["name"]: item["value"] for item in container["environment"]}
    assert environment["DB_OWNER_SECRET_ARN"] == SECRETS.database.owner_secret_arn
    assert (environment["DB_AUTH"], environment["DB_USER"]) == ("iam", "fraud_api_app")
    assert container["logConfiguration"]["options"]["awslogs-stream-prefix"] == "migrate"
    assert "mode" not in container["logConfiguration"]["options"], "blocking: the last lines of a failed run are kept"

    execution = _statements(config, "fraud-api-migrate-execution-test")
    assert set(execution) == ({"EcrLogin", "PullFraudApiImage", "WriteContainerLogs"} if pulls_from else {"EcrLogin", "WriteContainerLogs"})
    task_role = _statements(config, "fraud-api-migrate-test")
    assert {sid: (statement["actions"], statement["resources"]) for sid, statement in task_role.items()} == {
        "ReadSchemaOwnerSecret": (["secretsmanager:GetSecretValue"], [SECRETS.database.owner_secret_arn]),
        "DecryptSchemaOwnerSecret": (["kms:Decrypt"], [SECRETS.secrets_key_arn]),
    }
