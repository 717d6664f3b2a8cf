"""Least-privilege database access, by meaning, over the five stacks of every environment
(docs/security.md, "The master secret and the database roles").

Every identity policy of an environment is read where AWS reads it; references are followed across
stacks to the resources they name, and rendered as the ARNs AWS will see (`test_egress.render`),
then matched the way IAM matches them (wildcards included). The task definitions are found by
what they do: the serving one is what the ECS service runs, the migration one runs
`python -m fraud_api.migrate`.

- The serving task reads exactly the API-config secret it is told to read, and logs in to its
  own cluster as exactly the database user its environment names (`fraud_api_app`).
- Neither role of the serving task, and no role at all but the migration task's, can read the
  master secret; no secret policy opens it to anyone else.
- The migration task's roles allow what the migration step and its ECS agent do, and nothing more.
- No task definition has ECS inject a secret into a container.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

import pytest

from tests.security.policies import IDENTITY, policy_uses
from tests.security.synthesized import ENVIRONMENTS, Address, Platform, Stack, references_in
from tests.security.test_egress import ACCOUNT, REGION, iam_match, render

MIGRATION_COMMAND = ["python", "-m", "fraud_api.migrate"]
APPLICATION_USER = "fraud_api_app"


@pytest.fixture(params=ENVIRONMENTS)
def environment(request) -> str:
    return request.param


@dataclass(frozen=True)
class Allowed:
    """One action on one resource an Allow statement of a role's identity policy grants."""

    stack: Stack
    action: str
    resource: str  # as written in the stack
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]


Role = tuple[str, str]  # (stack, logical id of the aws_iam_role)


def allowed_by_role(platform: Platform, environment: str) -> dict[Role, list[Allowed]]:
    found: dict[Role, list[Allowed]] = defaultdict(list)
    for stack in platform.environment(environment):
        for use in policy_uses(stack):
            if use.kind != IDENTITY:
                continue
            role = platform.resolve(stack, use.body["role"])
            assert role is not None and role.type == "aws_iam_role", use.where
            for statement in use.statements:
                assert statement.allows, f"{use.where}: identity policies only allow (a Deny here would be judged nowhere)"
                found[(role.stack, role.logical_id)] += [
                    Allowed(stack, action, resource, statement.conditions) for action in statement.actions for resource in statement.resources
                ]
    return found


def named(platform: Platform, grant: Allowed) -> Address | None:
    return platform.resolve(grant.stack, grant.resource)


@dataclass(frozen=True)
class TaskDefinition:
    stack: Stack
    body: dict
    containers: list[dict]
    execution_role: Role
    task_role: Role

    def environment(self, container: str) -> dict[str, str]:
        (found,) = [each for each in self.containers if each["name"] == container]
        return {item["name"]: item["value"] for item in found.get("environment", [])}


def task_definitions(platform: Platform, environment: str) -> dict[str, TaskDefinition]:
    """`serving` (what the ECS service runs) and `migration` (what runs the migration step), and no other."""
    compute = platform.stack(f"compute-{environment}")
    (service,) = compute.resources("aws_ecs_service").values()
    served = platform.resolve(compute, service["task_definition"])
    found = {}
    for stack in platform.environment(environment):
        for logical_id, body in stack.resources("aws_ecs_task_definition").items():
            containers = json.loads(body["container_definitions"])
            roles = [platform.resolve(stack, body[attribute]) for attribute in ("execution_role_arn", "task_role_arn")]
            definition = TaskDefinition(stack, body, containers, *((role.stack, role.logical_id) for role in roles))
            if (stack.name, logical_id) == (served.stack, served.logical_id):
                found["serving"] = definition
            elif [container.get("command") for container in containers] == [MIGRATION_COMMAND]:
                found["migration"] = definition
            else:
                raise AssertionError(f"{stack.name}: task definition {logical_id} is neither the service's nor the migration's")
    assert set(found) == {"serving", "migration"}, found
    return found


def the_cluster(platform: Platform, environment: str) -> Address:
    data = platform.stack(f"data-{environment}")
    (logical_id,) = data.resources("aws_rds_cluster")
    return Address(data.name, "resource", "aws_rds_cluster", logical_id, "")


def master_secret_arn(platform: Platform, environment: str) -> str:
    cluster = the_cluster(platform, environment)
    return render(platform, platform.stack(cluster.stack), f"${{aws_rds_cluster.{cluster.logical_id}.master_user_secret[0].secret_arn}}")


def readers_of(platform: Platform, environment: str, secret_arn: str) -> set[Role]:
    """Every role whose identity policy lets it read `secret_arn`, wildcards included."""
    return {
        role
        for role, grants in allowed_by_role(platform, environment).items()
        for grant in grants
        if iam_match(grant.action, "secretsmanager:GetSecretValue") and iam_match(render(platform, grant.stack, grant.resource), secret_arn)
    }


def _secrets_key(platform: Platform, environment: str) -> Address:
    """The key the master secret (and the API-config secret) is encrypted with."""
    cluster = the_cluster(platform, environment)
    data = platform.stack(cluster.stack)
    return platform.resolve(data, data.resources("aws_rds_cluster")[cluster.logical_id]["master_user_secret_kms_key_id"])


def _decrypts_only_through_secrets_manager(platform: Platform, environment: str, grant: Allowed) -> bool:
    key = named(platform, grant)
    via = [values for test, variable, values in grant.conditions if test == "StringEquals" and variable == "kms:ViaService"]
    expected = _secrets_key(platform, environment)
    return (
        grant.action == "kms:Decrypt"
        and key is not None
        and (key.stack, key.logical_id) == (expected.stack, expected.logical_id)
        and len(via) == 1
        and [render(platform, grant.stack, value) for value in via[0]] == [f"secretsmanager.{REGION}.amazonaws.com"]
    )


# --- The serving task ------------------------------------------------------------------------------


def test_the_serving_task_reads_exactly_the_api_config_secret_and_logs_in_as_the_application_role(platform, environment):
    serving = task_definitions(platform, environment)["serving"]
    grants = allowed_by_role(platform, environment)
    variables = serving.environment("fraud-api")

    # Secrets: the one it is told to read, by ARN (AWSCURRENT and AWSPREVIOUS are versions of it).
    api_config = named(platform, Allowed(serving.stack, "", variables["API_CONFIG_SECRET_ARN"], ()))
    assert (api_config.type, api_config.attribute) == ("aws_secretsmanager_secret", "arn")
    secret_grants = [grant for grant in grants[serving.task_role] if grant.action.startswith("secretsmanager:")]
    assert [(grant.action, named(platform, grant)) for grant in secret_grants] == [("secretsmanager:GetSecretValue", api_config)]
    kms = [grant for grant in grants[serving.task_role] if grant.action.startswith("kms:")]
    assert kms and all(_decrypts_only_through_secrets_manager(platform, environment, grant) for grant in kms)
    # The ECS agent injects nothing, so its role reads no secret and decrypts nothing.
    assert not [grant for grant in grants[serving.execution_role] if grant.action.startswith(("secretsmanager:", "kms:"))]

    # The database: IAM authentication as the user the task names, on the cluster it connects to.
    assert (variables["DB_AUTH"], variables["DB_USER"]) == ("iam", APPLICATION_USER)
    host = named(platform, Allowed(serving.stack, "", variables["DB_HOST"], ()))
    cluster = the_cluster(platform, environment)
    assert (host.stack, host.type, host.logical_id, host.attribute) == (cluster.stack, "aws_rds_cluster", cluster.logical_id, "endpoint")
    (connect,) = [grant for grant in grants[serving.task_role] if grant.action.startswith("rds-db:")]
    assert connect.action == "rds-db:connect"
    resource_id = f"${{aws_rds_cluster.{cluster.logical_id}.cluster_resource_id}}"
    expected = f"arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:{render(platform, platform.stack(cluster.stack), resource_id)}/{APPLICATION_USER}"
    assert render(platform, connect.stack, connect.resource) == expected
    named_clusters = {
        (address.stack, address.logical_id, address.attribute)
        for reference in references_in(connect.resource)
        if (address := platform.resolve(connect.stack, reference)) is not None and address.type == "aws_rds_cluster"
    }
    assert named_clusters == {(cluster.stack, cluster.logical_id, "cluster_resource_id")}, "this environment's cluster, no other"


def test_only_the_serving_task_may_log_in_to_the_database_and_only_as_the_application_role(platform, environment):
    serving = task_definitions(platform, environment)["serving"]
    connecting = {
        (role, render(platform, grant.stack, grant.resource))
        for role, grants in allowed_by_role(platform, environment).items()
        for grant in grants
        if iam_match(grant.action, "rds-db:connect")
    }
    assert {role for role, _ in connecting} == {serving.task_role}
    assert all(resource.endswith(f"/{APPLICATION_USER}") and "*" not in resource for _, resource in connecting)


# --- The master secret -----------------------------------------------------------------------------


def test_only_the_migration_task_can_read_the_master_secret(platform, environment):
    tasks = task_definitions(platform, environment)
    readers = readers_of(platform, environment, master_secret_arn(platform, environment))
    assert readers == {tasks["migration"].task_role}
    serving = tasks["serving"]
    assert not readers & {serving.task_role, serving.execution_role}, "no serving task may read the master secret"
    # ...and no resource policy opens the master secret to another principal.
    for stack in platform.environment(environment):
        for body in stack.resources("aws_secretsmanager_secret_policy").values():
            protected = platform.resolve(stack, body["secret_arn"])
            assert protected is None or protected.type != "aws_rds_cluster", f"{stack.name}: a policy on the master secret"


def test_the_readers_check_sees_a_wildcard_grant():
    """readers_of matches as IAM does: `rds!cluster-*` and `secret:*` both cover the master secret."""
    master = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!cluster-0b1c2d3e-Ab12Cd"
    assert iam_match(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!cluster-*", master)
    assert iam_match("secretsmanager:*", "secretsmanager:GetSecretValue") and iam_match("*", master)
    assert not iam_match(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:fraud-*-dev-??????", master)


# --- The migration task ----------------------------------------------------------------------------


def test_the_migration_task_can_do_what_the_migration_step_needs_and_nothing_more(platform, environment):
    tasks = task_definitions(platform, environment)
    migration, serving = tasks["migration"], tasks["serving"]
    grants = allowed_by_role(platform, environment)
    assert {migration.task_role, migration.execution_role}.isdisjoint({serving.task_role, serving.execution_role})

    # The task: read the owner's login from the master secret, decrypting it through Secrets Manager.
    master = master_secret_arn(platform, environment)
    reads = [grant for grant in grants[migration.task_role] if grant.action != "kms:Decrypt"]
    assert [(grant.action, render(platform, grant.stack, grant.resource)) for grant in reads] == [("secretsmanager:GetSecretValue", master)]
    decrypts = [grant for grant in grants[migration.task_role] if grant.action == "kms:Decrypt"]
    assert decrypts and all(_decrypts_only_through_secrets_manager(platform, environment, grant) for grant in decrypts)
    assert render(platform, migration.stack, migration.environment("fraud-api-migrate")["DB_OWNER_SECRET_ARN"]) == master

    # Its ECS agent: the image the service runs and the service's log group, nothing else.
    (container,) = migration.containers
    (serving_container,) = [each for each in serving.containers if each["name"] == "fraud-api"]
    assert container["image"] == serving_container["image"]
    agent = {(grant.action, render(platform, grant.stack, grant.resource)) for grant in grants[migration.execution_role]}
    log_group = container["logConfiguration"]["options"]["awslogs-group"]
    group_name = render(platform, migration.stack, log_group)
    repository = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/fraud-api"
    assert agent == {
        ("ecr:GetAuthorizationToken", "*"),
        *((action, repository) for action in ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")),
        *((action, f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group_name}:log-stream:*") for action in ("logs:CreateLogStream", "logs:PutLogEvents")),
    }


def test_the_migration_task_is_run_by_the_release_and_handed_to_no_service_or_deployment(platform, environment):
    migration = task_definitions(platform, environment)["migration"]
    compute = platform.stack(f"compute-{environment}")
    output = platform.resolve(compute, compute.config["output"]["fraud_api_migration_task_definition_arn"]["value"])
    assert (output.stack, output.type, output.attribute) == (migration.stack.name, "aws_ecs_task_definition", "arn")
    # CodeDeploy deploys the service; it may pass only the serving task's roles.
    passed = {
        (address.stack, address.logical_id)
        for grants in allowed_by_role(platform, environment).values()
        for grant in grants
        if grant.action == "iam:PassRole" and (address := named(platform, grant)) is not None
    }
    assert passed and not passed & {migration.task_role, migration.execution_role}


# --- No injected secrets ---------------------------------------------------------------------------


def test_no_task_definition_has_ecs_inject_a_secret(platform, environment):
    for definition in task_definitions(platform, environment).values():
        for container in definition.containers:
            assert not container.get("secrets"), f"{container['name']}: ECS would inject {container['secrets']}"
            names = {item["name"] for item in container.get("environment", [])}
            assert not names & {"DB_CREDENTIALS", "DB_SECRET_ARN", "API_CONFIG", "DB_OWNER_CREDENTIALS"}, (container["name"], names)
