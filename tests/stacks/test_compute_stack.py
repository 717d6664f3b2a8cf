"""The compute layer of every environment, property by property.

References are followed, not pattern-matched: a value read from another layer is resolved
through that layer's outputs to the resource it names, so "the ALB is in the application
subnets" means exactly that.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from stacks.layers import Layer, stack_id

ENVIRONMENTS = ("dev", "staging", "prod")
_REF = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_\[\]0-9.]+)\}$")
_REMOTE = re.compile(r"^\$\{data\.terraform_remote_state\.([^.]+)\.outputs\.([^}]+)\}$")


@dataclass
class Compute:
    stack: Any
    config: Any
    synthesis: Any

    @property
    def env(self) -> str:
        return self.config.name

    def named(self, resource_type: str, reference: str) -> dict:
        """The body of the resource `reference` (`${type.id.attr}`) points at."""
        match = _REF.match(reference)
        assert match and match.group(1) == resource_type, f"{reference!r} is not a {resource_type} reference"
        return self.stack.resources(resource_type)[match.group(2)]

    def ref(self, resource_type: str, logical_id: str, attribute: str) -> str:
        return f"${{{resource_type}.{logical_id}.{attribute}}}"

    def id_of(self, resource_type: str, predicate) -> str:
        (found,) = [name for name, body in self.stack.resources(resource_type).items() if predicate(body)]
        return found

    def upstream(self, reference: str) -> tuple[Layer, str, str, str]:
        """(layer, resource type, logical id, attribute) a remote-state reference resolves to."""
        match = _REMOTE.match(reference)
        assert match, f"{reference!r} is not read from another layer"
        remote = self.stack.data_sources("terraform_remote_state")[match.group(1)]
        layer = Layer(remote["config"]["key"].split("/")[1].removesuffix(".tfstate"))
        assert remote["config"]["key"] == f"{self.env}/{layer.value}.tfstate"
        value = self.synthesis.stack(layer, self.env).config["output"][match.group(2)]["value"]
        produced = _REF.match(value)
        assert produced, value
        return layer, produced.group(1), produced.group(2), produced.group(3)

    def data_key(self, reference: str) -> str:
        """Which of the data layer's keys (storage, messaging, logs) a key ARN reference names."""
        layer, resource_type, logical_id, attribute = self.upstream(reference)
        assert (layer, resource_type, attribute) == (Layer.DATA, "aws_kms_key", "arn")
        aliases = self.synthesis.stack(Layer.DATA, self.env).resources("aws_kms_alias").values()
        (alias,) = [body["name"] for body in aliases if body["target_key_id"] == f"${{aws_kms_key.{logical_id}.key_id}}"]
        return alias.removeprefix("alias/fraud-").removesuffix(f"-{self.env}")

    def network_tier(self, reference: str) -> tuple[str, str]:
        """(resource type, tier) of a network resource read through remote state."""
        layer, resource_type, logical_id, _ = self.upstream(reference)
        assert layer is Layer.NETWORK
        body = self.synthesis.stack(Layer.NETWORK, self.env).resources(resource_type)[logical_id]
        if resource_type == "aws_subnet":
            return resource_type, body["tags"]["Tier"]
        name = body.get("name") or body["tags"]["Name"]
        return resource_type, name.removeprefix("fraud-").removesuffix(f"-{self.env}")

    def policy(self, reference: str) -> dict[str, dict]:
        """Statements of a policy document (`${data.aws_iam_policy_document.x.json}`) by sid."""
        match = re.match(r"^\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}$", reference)
        assert match, reference
        statements = self.stack.data_sources("aws_iam_policy_document")[match.group(1)]["statement"]
        return {statement.get("sid", f"#{index}"): statement for index, statement in enumerate(statements)}

    def role(self, role_name_part: str) -> tuple[str, dict]:
        name = f"fraud-{role_name_part}-{self.env}"
        logical_id = self.id_of("aws_iam_role", lambda body: body["name"] == name)
        return logical_id, self.stack.resources("aws_iam_role")[logical_id]

    def role_statements(self, logical_id: str) -> dict[str, dict]:
        (policy,) = [body for body in self.stack.resources("aws_iam_role_policy").values() if body["role"] == self.ref("aws_iam_role", logical_id, "id")]
        return self.policy(policy["policy"])


@pytest.fixture(params=ENVIRONMENTS)
def compute(request, synthesis) -> Compute:
    return Compute(synthesis.stack(Layer.COMPUTE, request.param), synthesis.environments[request.param], synthesis)


def _task(compute: Compute, family: str) -> dict:
    """The task definition of `family` (`api`: the service's, `api-migrate`: the schema migration's)."""
    (task,) = [body for body in compute.stack.resources("aws_ecs_task_definition").values() if body["family"] == f"fraud-{family}-{compute.env}"]
    return task


def _containers(compute: Compute, family: str = "api") -> dict[str, dict]:
    return {container["name"]: container for container in json.loads(_task(compute, family)["container_definitions"])}


def _environment(container: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container["environment"]}


def _skips(body: dict) -> dict[str, str]:
    return body.get("//", {}).get("checkov_skip", {})


# --- ECS: cluster, task definition, roles -----------------------------------------------------


def test_cluster_has_container_insights(compute):
    cluster = compute.stack.only("aws_ecs_cluster")
    assert cluster["name"] == f"fraud-cluster-{compute.env}"
    assert {"name": "containerInsights", "value": "enabled"} in cluster["setting"]


def test_the_stack_has_two_task_definitions_the_service_and_the_schema_migration(compute):
    families = {body["family"] for body in compute.stack.resources("aws_ecs_task_definition").values()}
    assert families == {f"fraud-api-{compute.env}", f"fraud-api-migrate-{compute.env}"}
    service = compute.stack.only("aws_ecs_service")
    assert compute.named("aws_ecs_task_definition", service["task_definition"])["family"] == f"fraud-api-{compute.env}"


def test_task_definition_is_fargate_one_vcpu_two_gb_with_two_roles(compute):
    task = _task(compute, "api")
    assert task["family"] == f"fraud-api-{compute.env}"
    assert task["requires_compatibilities"] == ["FARGATE"] and task["network_mode"] == "awsvpc"
    assert (task["cpu"], task["memory"]) == ("1024", "2048")
    execution_id, _ = compute.role("api-execution")
    task_role_id, _ = compute.role("api-task")
    assert task["execution_role_arn"] == compute.ref("aws_iam_role", execution_id, "arn")
    assert task["task_role_arn"] == compute.ref("aws_iam_role", task_role_id, "arn")
    assert task["volume"] == [{"name": "tmp"}]


def _assert_hardened(container: dict) -> None:
    assert container["readonlyRootFilesystem"] is True
    user = container["user"].split(":")[0]
    assert user.isdigit() and int(user) != 0
    assert container["linuxParameters"]["capabilities"] == {"drop": ["ALL"]}
    assert {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False} in container["mountPoints"]


def _assert_reaches_the_database_as_the_application_role(compute: Compute, environment: dict[str, str]) -> None:
    assert compute.upstream(environment["DB_HOST"])[1::2] == ("aws_rds_cluster", "endpoint")
    assert compute.upstream(environment["DB_PORT"])[1::2] == ("aws_rds_cluster", "port")
    assert compute.upstream(environment["DB_NAME"])[1::2] == ("aws_rds_cluster", "database_name")
    # IAM database authentication over TLS, as the role the migration provisions.
    assert (environment["DB_AUTH"], environment["DB_USER"], environment["DB_SSLMODE"]) == ("iam", "fraud_api_app", "require")
    assert environment["AWS_REGION"].startswith("${data.aws_region.")


def test_app_container_is_hardened_and_holds_no_credential(compute):
    app = _containers(compute)["fraud-api"]
    _assert_hardened(app)
    assert app["healthCheck"]["command"] == ["CMD", "python", "-m", "fraud_api.healthcheck"]
    assert app["portMappings"] == [{"containerPort": 8080, "protocol": "tcp"}]
    assert "command" not in app, "the image's own command: the server"

    # Nothing injected: the server refuses database credentials with DB_AUTH=iam, and a fixed
    # API_CONFIG together with API_CONFIG_SECRET_ARN (exit 2).
    assert "secrets" not in app
    environment = _environment(app)
    assert set(environment) == {
        "PORT", "DB_HOST", "DB_PORT", "DB_NAME", "DB_SSLMODE", "DB_AUTH", "DB_USER", "DB_POOL_MAX_SIZE", "AWS_REGION",
        "API_CONFIG_SECRET_ARN", "AWS_XRAY_DAEMON_ADDRESS",
    }
    assert environment["PORT"] == "8080" and environment["AWS_XRAY_DAEMON_ADDRESS"] == "127.0.0.1:2000"
    _assert_reaches_the_database_as_the_application_role(compute, environment)
    assert compute.upstream(environment["API_CONFIG_SECRET_ARN"])[1::2] == ("aws_secretsmanager_secret", "arn")
    assert 1 <= int(environment["DB_POOL_MAX_SIZE"]) <= 100
    assert not any(re.search(r"PASSWORD|CREDENTIALS|OWNER|DB_SECRET|^API_CONFIG$", name) for name in environment)


def test_app_image_comes_from_configuration(compute):
    image = _containers(compute)["fraud-api"]["image"]
    assert image.endswith(f".amazonaws.com/{compute.config.compute.fraud_api_image}")
    assert image.startswith("${data.aws_caller_identity.")


def test_xray_daemon_sidecar_is_pinned_and_hardened(compute):
    containers = _containers(compute)
    xray = containers["xray-daemon"]
    # Pinned, and pulled through the account's ECR Public cache: tasks without NAT reach only ECR.
    assert re.fullmatch(
        r"\$\{data\.aws_caller_identity\.[^.]+\.account_id\}\.dkr\.ecr\.\$\{data\.aws_region\.[^.]+\.name\}\.amazonaws\.com"
        r"/ecr-public/xray/aws-xray-daemon:\d+\.\d+\.\d+",
        xray["image"],
    )
    assert xray["portMappings"] == [{"containerPort": 2000, "protocol": "udp"}]
    assert xray["readonlyRootFilesystem"] is True and xray["user"] != "0"
    assert xray["essential"] is False
    assert {"containerName": "xray-daemon", "condition": "START"} in containers["fraud-api"]["dependsOn"]


def test_containers_log_to_the_encrypted_log_group_of_this_stack(compute):
    group_id = compute.id_of("aws_cloudwatch_log_group", lambda body: body["name"] == f"/ecs/fraud-api-{compute.env}")
    group = compute.stack.resources("aws_cloudwatch_log_group")[group_id]
    assert group["retention_in_days"] == compute.config.compute.fraud_api_log_retention_days
    assert compute.data_key(group["kms_key_id"]) == "logs"
    containers = [*_containers(compute).values(), *_containers(compute, "api-migrate").values()]
    assert len(containers) == 3
    for container in containers:
        options = container["logConfiguration"]["options"]
        assert container["logConfiguration"]["logDriver"] == "awslogs"
        assert options["awslogs-group"] == compute.ref("aws_cloudwatch_log_group", group_id, "name")
        assert options["awslogs-region"].startswith("${data.aws_region.")


@pytest.mark.parametrize("role", ["api-execution", "api-task", "api-migrate-execution", "api-migrate"])
def test_task_roles_trust_only_ecs_tasks_of_this_account_and_region(compute, role):
    _, body = compute.role(role)
    (statement,) = compute.policy(body["assume_role_policy"]).values()
    assert statement["principals"] == [{"type": "Service", "identifiers": ["ecs-tasks.amazonaws.com"]}]
    conditions = {condition["variable"]: condition for condition in statement["condition"]}
    assert set(conditions) == {"aws:SourceAccount", "aws:SourceArn"}
    assert conditions["aws:SourceAccount"]["test"] == "StringEquals"
    assert conditions["aws:SourceArn"]["test"] == "ArnLike"
    (arn,) = conditions["aws:SourceArn"]["values"]
    assert re.fullmatch(r"arn:\$\{data\.aws_partition\.[^}]+\}:ecs:\$\{data\.aws_region\.[^}]+\}:\$\{data\.aws_caller_identity\.[^}]+\}:\*", arn)


PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def test_execution_role_pulls_the_images_writes_logs_and_reads_no_secret(compute):
    role_id, _ = compute.role("api-execution")
    statements = compute.role_statements(role_id)
    assert {sid: sorted(statement["actions"]) for sid, statement in statements.items()} == {
        "EcrLogin": ["ecr:GetAuthorizationToken"],
        "PullFraudApiImage": PULL_ACTIONS,
        "PullXrayDaemonThroughCache": sorted([*PULL_ACTIONS, "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]),
        "WriteContainerLogs": ["logs:CreateLogStream", "logs:PutLogEvents"],
    }
    assert statements["PullFraudApiImage"]["resources"][0].endswith(":repository/fraud-api")
    # Importing and creating repositories only in the one cache repository the daemon comes from.
    (cache,) = statements["PullXrayDaemonThroughCache"]["resources"]
    assert cache.endswith(":repository/ecr-public/xray/aws-xray-daemon")
    assert statements["WriteContainerLogs"]["resources"][0].endswith(".arn}:log-stream:*")


_DATABASE_USER_ARN = re.compile(
    r"arn:\$\{data\.aws_partition\.[^}]+\}:rds-db:\$\{data\.aws_region\.[^}]+\}:\$\{data\.aws_caller_identity\.[^}]+\}:"
    r"dbuser:(?P<cluster>\$\{[^}]+\})/(?P<user>\w+)"
)


def test_task_role_has_only_what_the_app_calls_at_run_time(compute):
    role_id, _ = compute.role("api-task")
    statements = compute.role_statements(role_id)
    assert {sid: sorted(statement["actions"]) for sid, statement in statements.items()} == {
        "ReadApiConfig": ["secretsmanager:GetSecretValue"],
        "DecryptApiConfig": ["kms:Decrypt"],
        "ConnectAsApplicationRole": ["rds-db:connect"],
        "SendTraces": ["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"],
    }
    environment = _environment(_containers(compute)["fraud-api"])
    # The API-config secret the task is told to read, and no other secret (its two stages are versions of it).
    assert statements["ReadApiConfig"]["resources"] == [environment["API_CONFIG_SECRET_ARN"]]
    assert compute.data_key(statements["DecryptApiConfig"]["resources"][0]) == "storage"
    (via,) = statements["DecryptApiConfig"]["condition"]
    assert (via["test"], via["variable"]) == ("StringEquals", "kms:ViaService")
    assert re.fullmatch(r"secretsmanager\.\$\{data\.aws_region\.[^}]+\}\.amazonaws\.com", *via["values"])
    # Log in as the application role of this environment's cluster, and as nobody else.
    (database_user,) = statements["ConnectAsApplicationRole"]["resources"]
    match = _DATABASE_USER_ARN.fullmatch(database_user)
    assert match, database_user
    assert compute.upstream(match["cluster"])[1::2] == ("aws_rds_cluster", "cluster_resource_id")
    assert match["user"] == environment["DB_USER"]


# --- The schema migration task ---------------------------------------------------------------------


def test_migration_task_runs_the_service_image_as_the_migration_step_and_serves_nothing(compute):
    task = _task(compute, "api-migrate")
    assert task["requires_compatibilities"] == ["FARGATE"] and task["network_mode"] == "awsvpc"
    assert task["runtime_platform"] == _task(compute, "api")["runtime_platform"]
    (migrate,) = _containers(compute, "api-migrate").values()
    assert migrate["image"] == _containers(compute)["fraud-api"]["image"], "the schema the build needs comes with the build"
    assert migrate["command"] == ["python", "-m", "fraud_api.migrate"]
    assert migrate["essential"] is True
    _assert_hardened(migrate)
    assert not {"portMappings", "healthCheck", "secrets", "dependsOn"} & set(migrate)
    service = compute.stack.only("aws_ecs_service")
    assert compute.named("aws_ecs_task_definition", service["task_definition"])["family"] != task["family"], "run by the release, never by a service"

    environment = _environment(migrate)
    assert set(environment) == {"DB_HOST", "DB_PORT", "DB_NAME", "DB_SSLMODE", "DB_AUTH", "DB_USER", "AWS_REGION", "DB_OWNER_SECRET_ARN"}
    # It provisions the very role the service logs in as, the way the service logs in.
    _assert_reaches_the_database_as_the_application_role(compute, environment)
    serving = _environment(_containers(compute)["fraud-api"])
    assert {name: environment[name] for name in ("DB_HOST", "DB_PORT", "DB_NAME", "DB_AUTH", "DB_USER")} == {
        name: serving[name] for name in ("DB_HOST", "DB_PORT", "DB_NAME", "DB_AUTH", "DB_USER")
    }
    assert compute.upstream(environment["DB_OWNER_SECRET_ARN"])[1::2] == ("aws_rds_cluster", "master_user_secret[0].secret_arn")


def test_migration_roles_are_its_own_and_hold_the_owner_secret_and_nothing_else(compute):
    task = _task(compute, "api-migrate")
    execution_id, _ = compute.role("api-migrate-execution")
    task_role_id, _ = compute.role("api-migrate")
    assert task["execution_role_arn"] == compute.ref("aws_iam_role", execution_id, "arn")
    assert task["task_role_arn"] == compute.ref("aws_iam_role", task_role_id, "arn")
    assert {task["execution_role_arn"], task["task_role_arn"]}.isdisjoint({_task(compute, "api")["execution_role_arn"], _task(compute, "api")["task_role_arn"]})

    execution = compute.role_statements(execution_id)
    assert {sid: sorted(statement["actions"]) for sid, statement in execution.items()} == {
        "EcrLogin": ["ecr:GetAuthorizationToken"],
        "PullFraudApiImage": PULL_ACTIONS,
        "WriteContainerLogs": ["logs:CreateLogStream", "logs:PutLogEvents"],
    }
    statements = compute.role_statements(task_role_id)
    assert {sid: sorted(statement["actions"]) for sid, statement in statements.items()} == {
        "ReadSchemaOwnerSecret": ["secretsmanager:GetSecretValue"],
        "DecryptSchemaOwnerSecret": ["kms:Decrypt"],
    }
    (owner_secret,) = statements["ReadSchemaOwnerSecret"]["resources"]
    assert owner_secret == _environment(_containers(compute, "api-migrate")["fraud-api-migrate"])["DB_OWNER_SECRET_ARN"]
    assert compute.data_key(statements["DecryptSchemaOwnerSecret"]["resources"][0]) == "storage"
    assert statements["DecryptSchemaOwnerSecret"]["condition"][0]["variable"] == "kms:ViaService"


def test_outputs_say_how_the_release_runs_the_migration(compute):
    outputs = compute.stack.config["output"]
    task_definition = outputs["fraud_api_migration_task_definition_arn"]["value"]
    assert task_definition.endswith(".arn}")
    assert compute.named("aws_ecs_task_definition", task_definition)["family"] == f"fraud-api-migrate-{compute.env}"
    subnets = outputs["fraud_api_migration_subnet_ids"]["value"]
    assert {compute.network_tier(subnet) for subnet in subnets} == {("aws_subnet", "application")} and len(subnets) == 3
    assert subnets == compute.stack.only("aws_ecs_service")["network_configuration"]["subnets"]
    assert compute.network_tier(outputs["fraud_api_migration_security_group_id"]["value"]) == ("aws_security_group", "migration")


def test_no_policy_of_the_stack_allows_a_wildcard_action(compute):
    for document in compute.stack.data_sources("aws_iam_policy_document").values():
        for statement in document["statement"]:
            if statement.get("effect", "Allow") == "Allow":
                assert not any(action == "*" or action.endswith(":*") for action in statement.get("actions", [])), statement


# --- ECS service ------------------------------------------------------------------------------


def test_service_runs_privately_in_the_application_tier_under_codedeploy(compute):
    service = compute.stack.only("aws_ecs_service")
    network = service["network_configuration"]
    assert network["assign_public_ip"] is False
    assert {compute.network_tier(subnet) for subnet in network["subnets"]} == {("aws_subnet", "application")}
    assert len(network["subnets"]) == 3
    assert [compute.network_tier(group) for group in network["security_groups"]] == [("aws_security_group", "application")]
    assert service["deployment_controller"] == {"type": "CODE_DEPLOY"}
    assert service["launch_type"] == "FARGATE" and service["platform_version"] == "LATEST"
    assert service["desired_count"] == compute.config.compute.fraud_api_min_tasks
    assert {"task_definition", "load_balancer", "desired_count"} <= set(service["lifecycle"]["ignore_changes"])
    (attachment,) = service["load_balancer"]
    assert compute.named("aws_lb_target_group", attachment["target_group_arn"])["name"] == f"fraud-api-blue-{compute.env}"
    assert (attachment["container_name"], attachment["container_port"]) == ("fraud-api", 8080)
    assert all(dependency.startswith("aws_lb_listener_rule.") for dependency in service["depends_on"])
    assert "deployment_circuit_breaker" not in service, "the circuit breaker exists only for the ECS controller"


# --- Autoscaling ------------------------------------------------------------------------------


def test_autoscaling_limits_follow_the_environment(compute):
    target = compute.stack.only("aws_appautoscaling_target")
    settings = compute.config.compute
    assert (target["min_capacity"], target["max_capacity"]) == (settings.fraud_api_min_tasks, settings.fraud_api_max_tasks)
    assert target["scalable_dimension"] == "ecs:service:DesiredCount"
    assert target["resource_id"].startswith("service/${aws_ecs_cluster.cluster.name}/${aws_ecs_service.")


def _policies(compute) -> dict[str, dict]:
    return {body["name"].removesuffix(f"-{compute.env}"): body["target_tracking_scaling_policy_configuration"] for body in compute.stack.resources("aws_appautoscaling_policy").values()}


def test_cpu_target_tracking_scales_out_fast_and_in_slowly(compute):
    cpu = _policies(compute)["fraud-api-cpu"]
    settings = compute.config.compute
    assert cpu["predefined_metric_specification"] == {"predefined_metric_type": "ECSServiceAverageCPUUtilization"}
    assert cpu["target_value"] == settings.fraud_api_cpu_target_percent == 70
    assert cpu["scale_out_cooldown"] == settings.fraud_api_scale_out_cooldown_seconds
    assert cpu["scale_in_cooldown"] == settings.fraud_api_scale_in_cooldown_seconds
    assert cpu["scale_out_cooldown"] < cpu["scale_in_cooldown"]


def test_request_count_per_target_tracks_the_whole_service_across_blue_and_green(compute):
    requests = _policies(compute)["fraud-api-requests"]
    assert requests["target_value"] == compute.config.compute.fraud_api_requests_per_target
    metrics = {metric["id"]: metric for metric in requests["customized_metric_specification"]["metrics"]}
    assert metrics["requests_per_task"]["expression"] == "requests / tasks" and metrics["requests_per_task"]["return_data"]
    load_balancer = metrics["requests"]["metric_stat"]
    assert (load_balancer["metric"]["namespace"], load_balancer["metric"]["metric_name"], load_balancer["stat"]) == ("AWS/ApplicationELB", "RequestCount", "Sum")
    assert load_balancer["metric"]["dimensions"] == [{"name": "LoadBalancer", "value": compute.ref("aws_lb", compute.id_of("aws_lb", lambda _: True), "arn_suffix")}]
    assert metrics["tasks"]["metric_stat"]["metric"]["metric_name"] == "RunningTaskCount"
    assert requests["scale_out_cooldown"] < requests["scale_in_cooldown"]


def test_scheduled_scaling_raises_the_floor_for_the_daily_peak_where_configured(compute):
    actions = {body["name"].removesuffix(f"-{compute.env}"): body for body in compute.stack.resources("aws_appautoscaling_scheduled_action").values()}
    peak = compute.config.compute.fraud_api_peak
    if peak is None:
        assert actions == {}
        return
    assert set(actions) == {"fraud-api-peak-start", "fraud-api-peak-end"}
    assert actions["fraud-api-peak-start"]["schedule"] == peak.start_schedule
    assert actions["fraud-api-peak-start"]["scalable_target_action"]["min_capacity"] == str(peak.min_tasks)
    assert actions["fraud-api-peak-end"]["scalable_target_action"]["min_capacity"] == str(compute.config.compute.fraud_api_min_tasks)


# --- Load balancer, certificate, routing ------------------------------------------------------


def test_load_balancer_is_internal_in_the_application_subnets(compute):
    load_balancer = compute.stack.only("aws_lb")
    assert load_balancer["internal"] is True and load_balancer["load_balancer_type"] == "application"
    assert {compute.network_tier(subnet) for subnet in load_balancer["subnets"]} == {("aws_subnet", "application")}
    assert [compute.network_tier(group) for group in load_balancer["security_groups"]] == [("aws_security_group", "load-balancer")]
    assert load_balancer["drop_invalid_header_fields"] is True
    assert load_balancer["enable_deletion_protection"] is False
    logs = load_balancer["access_logs"]
    assert logs["enabled"] is True
    if compute.config.compute.access_logs_to_account_archive:
        # The account's archive (bootstrap), under the environment's prefix: nothing of the layer to empty.
        assert re.fullmatch(
            rf"{compute.config.project}-audit-alb-logs-\$\{{data\.aws_caller_identity\.[^}}]+\.account_id\}}-\$\{{data\.aws_region\.[^}}]+\.name\}}",
            logs["bucket"],
        ), logs["bucket"]
        assert logs["prefix"] == f"alb/{compute.env}"
        assert not compute.stack.resources("aws_s3_bucket") and "depends_on" not in load_balancer
        return
    bucket = compute.named("aws_s3_bucket", logs["bucket"])
    assert bucket["bucket"].startswith(f"fraud-alb-logs-{compute.env}-")
    assert any(dependency.startswith("aws_s3_bucket_policy.") for dependency in load_balancer["depends_on"])


def test_access_log_bucket_uses_sse_s3_and_admits_only_elb_log_delivery(compute):
    if compute.config.compute.access_logs_to_account_archive:
        # The archive's buckets are the bootstrap's: tests/stacks/test_bootstrap_stack.py.
        assert not compute.stack.resources("aws_s3_bucket")
        return
    (bucket_id,) = compute.stack.resources("aws_s3_bucket")
    assert _skips(compute.stack.resources("aws_s3_bucket")[bucket_id])["CKV_AWS_145"]
    encryption = compute.stack.only("aws_s3_bucket_server_side_encryption_configuration")["rule"][0]
    assert encryption["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    statements = compute.policy(compute.stack.only("aws_s3_bucket_policy")["policy"])
    prefix = compute.stack.only("aws_lb")["access_logs"]["prefix"]
    for sid in ("ElbLogDelivery", "ElbLogDeliveryLegacyRegions"):
        assert statements[sid]["actions"] == ["s3:PutObject"]
        (resource,) = statements[sid]["resources"]
        assert f".arn}}/{prefix}/AWSLogs/${{data.aws_caller_identity." in resource
    assert statements["ElbLogDelivery"]["principals"] == [{"type": "Service", "identifiers": ["logdelivery.elasticloadbalancing.amazonaws.com"]}]
    assert statements["ElbLogDeliveryLegacyRegions"]["principals"][0]["identifiers"][0].startswith("${data.aws_elb_service_account.")
    lifecycle = compute.stack.only("aws_s3_bucket_lifecycle_configuration")["rule"][0]
    assert lifecycle["expiration"][0]["days"] == compute.config.compute.access_log_expiration_days >= 365


def test_certificate_covers_the_api_name_and_its_wildcard_validated_in_the_zone(compute):
    certificate = compute.stack.only("aws_acm_certificate")
    domain = compute.config.edge.api_domain_name
    assert certificate["domain_name"] == domain
    assert certificate["subject_alternative_names"] == [f"*.{domain}"]
    assert certificate["validation_method"] == "DNS"
    (zone_id,) = compute.stack.data_sources("aws_route53_zone")
    assert compute.stack.data_sources("aws_route53_zone")[zone_id]["name"] == compute.config.edge.hosted_zone_name
    record = compute.stack.only("aws_route53_record")
    (certificate_id,) = compute.stack.resources("aws_acm_certificate")
    # One record (name and wildcard share it), not a for_each: the options' keys are unknown
    # until the certificate exists, which would fail the first plan.
    assert "for_each" not in record
    assert record["name"] == f"${{tolist(aws_acm_certificate.{certificate_id}.domain_validation_options)[0].resource_record_name}}"
    assert record["zone_id"] == f"${{data.aws_route53_zone.{zone_id}.zone_id}}"
    assert record["allow_overwrite"] is True
    validation = compute.stack.only("aws_acm_certificate_validation")
    assert validation["certificate_arn"] == compute.ref("aws_acm_certificate", certificate_id, "arn")
    (record_id,) = compute.stack.resources("aws_route53_record")
    assert validation["validation_record_fqdns"] == [f"${{aws_route53_record.{record_id}.fqdn}}"]


def _listeners(compute) -> dict[int, tuple[str, dict]]:
    return {body["port"]: (name, body) for name, body in compute.stack.resources("aws_lb_listener").items()}


def test_only_tls_listeners_443_and_8443_with_the_issued_certificate(compute):
    listeners = _listeners(compute)
    assert set(listeners) == {443, 8443}, "no plain-HTTP listener: the load balancer security group admits only 443 and 8443"
    (validation_id,) = compute.stack.resources("aws_acm_certificate_validation")
    for _, listener in listeners.values():
        assert listener["protocol"] == "HTTPS"
        assert listener["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
        assert listener["certificate_arn"] == compute.ref("aws_acm_certificate_validation", validation_id, "certificate_arn")
        (default,) = listener["default_action"]
        assert default["type"] == "fixed-response" and default["fixed_response"]["status_code"] == "404"


def test_both_listeners_route_api_paths_to_blue_and_leave_the_swap_to_codedeploy(compute):
    rules = compute.stack.resources("aws_lb_listener_rule").values()
    by_listener = {rule["listener_arn"]: rule for rule in rules}
    assert set(by_listener) == {compute.ref("aws_lb_listener", name, "arn") for name, _ in _listeners(compute).values()}
    for rule in by_listener.values():
        assert rule["condition"] == [{"path_pattern": {"values": ["/api/*", "/health"]}}]
        (action,) = rule["action"]
        assert action["type"] == "forward"
        assert compute.named("aws_lb_target_group", action["target_group_arn"])["name"] == f"fraud-api-blue-{compute.env}"
        assert rule["lifecycle"]["ignore_changes"] == ["action"]


def test_blue_and_green_target_groups_check_health_on_the_app(compute):
    groups = {body["name"]: body for body in compute.stack.resources("aws_lb_target_group").values()}
    assert set(groups) == {f"fraud-api-blue-{compute.env}", f"fraud-api-green-{compute.env}"}
    for group in groups.values():
        assert (group["target_type"], group["port"], group["protocol"]) == ("ip", 8080, "HTTP")
        assert compute.network_tier(group["vpc_id"])[0] == "aws_vpc"
        health = group["health_check"]
        assert (health["path"], health["matcher"], health["port"]) == ("/health", "200", "traffic-port")
        assert int(group["deregistration_delay"]) < 20, "must be shorter than the app's 20 s drain"


# --- Blue/green -------------------------------------------------------------------------------


def test_codedeploy_blue_green_with_rollback_on_failure_and_on_alarms(compute):
    application = compute.stack.only("aws_codedeploy_app")
    assert application["compute_platform"] == "ECS" and application["name"] == f"fraud-api-{compute.env}"
    group = compute.stack.only("aws_codedeploy_deployment_group")
    settings = compute.config.compute
    assert group["deployment_config_name"] == settings.deployment_config_name
    assert group["deployment_style"] == {"deployment_option": "WITH_TRAFFIC_CONTROL", "deployment_type": "BLUE_GREEN"}
    termination = group["blue_green_deployment_config"]["terminate_blue_instances_on_deployment_success"]
    assert termination == {"action": "TERMINATE", "termination_wait_time_in_minutes": settings.blue_green_termination_wait_minutes}
    assert group["auto_rollback_configuration"] == {"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]}

    alarms = group["alarm_configuration"]
    assert alarms["enabled"] is True and alarms["ignore_poll_alarm_failure"] is False
    own_alarms = {compute.ref("aws_cloudwatch_metric_alarm", name, "alarm_name") for name in compute.stack.resources("aws_cloudwatch_metric_alarm")}
    assert set(alarms["alarms"]) == own_alarms and len(own_alarms) == 4

    pair = group["load_balancer_info"]["target_group_pair_info"]
    listeners = _listeners(compute)
    assert pair["prod_traffic_route"]["listener_arns"] == [compute.ref("aws_lb_listener", listeners[443][0], "arn")]
    assert pair["test_traffic_route"]["listener_arns"] == [compute.ref("aws_lb_listener", listeners[8443][0], "arn")]
    names = [compute.named("aws_lb_target_group", target["name"])["name"] for target in pair["target_group"]]
    assert names == [f"fraud-api-blue-{compute.env}", f"fraud-api-green-{compute.env}"]
    assert group["ecs_service"]["service_name"].startswith("${aws_ecs_service.")


def test_rollback_alarms_watch_5xx_and_unhealthy_targets_of_both_colours(compute):
    alarms = {body["alarm_name"].removesuffix(f"-{compute.env}"): body for body in compute.stack.resources("aws_cloudwatch_metric_alarm").values()}
    assert set(alarms) == {f"fraud-api-{colour}-{kind}" for colour in ("blue", "green") for kind in ("5xx", "unhealthy")}
    groups = {body["name"]: name for name, body in compute.stack.resources("aws_lb_target_group").items()}
    (load_balancer_id,) = compute.stack.resources("aws_lb")
    for colour in ("blue", "green"):
        dimensions = {
            "LoadBalancer": compute.ref("aws_lb", load_balancer_id, "arn_suffix"),
            "TargetGroup": compute.ref("aws_lb_target_group", groups[f"fraud-api-{colour}-{compute.env}"], "arn_suffix"),
        }
        errors, unhealthy = alarms[f"fraud-api-{colour}-5xx"], alarms[f"fraud-api-{colour}-unhealthy"]
        assert (errors["namespace"], errors["metric_name"], errors["dimensions"]) == ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", dimensions)
        assert errors["threshold"] == compute.config.compute.rollback_target_5xx_per_minute
        assert (unhealthy["metric_name"], unhealthy["dimensions"], unhealthy["threshold"]) == ("UnHealthyHostCount", dimensions, 1)
        assert errors["treat_missing_data"] == unhealthy["treat_missing_data"] == "notBreaching"


def _grants(compute: Compute, role_id: str) -> set[tuple[str, str]]:
    """(action, resource) for every Allow of the role's inline policy, references resolved to what they name."""
    return {
        (action, resource)
        for statement in compute.role_statements(role_id).values()
        if statement.get("effect", "Allow") == "Allow"
        for action in statement["actions"]
        for resource in statement["resources"]
    }


def test_codedeploy_role_can_deploy_exactly_this_service_and_nothing_else(compute):
    """What the role can do, as actions x resources: the task sets of this environment's service, its
    two listeners and their forwarding rules, its rollback alarms, and its two task roles, passed to ECS only."""
    role_id, role = compute.role("codedeploy")
    (statement,) = compute.policy(role["assume_role_policy"]).values()
    assert statement["principals"] == [{"type": "Service", "identifiers": ["codedeploy.amazonaws.com"]}]
    assert not [body for body in compute.stack.resources("aws_iam_role_policy_attachment").values() if role_id in body["role"]], "no managed policy"

    group = compute.stack.only("aws_codedeploy_deployment_group")
    cluster, service = group["ecs_service"]["cluster_name"], group["ecs_service"]["service_name"]
    assert compute.named("aws_ecs_cluster", cluster)["name"] == f"fraud-cluster-{compute.env}"
    assert service == compute.ref("aws_ecs_service", compute.id_of("aws_ecs_service", lambda body: True), "name")

    routes = group["load_balancer_info"]["target_group_pair_info"]
    listeners = {routes["prod_traffic_route"]["listener_arns"][0], routes["test_traffic_route"]["listener_arns"][0]}
    assert {compute.named("aws_lb_listener", arn)["port"] for arn in listeners} == {443, 8443}
    rules = {compute.ref("aws_lb_listener_rule", logical_id, "arn") for logical_id in compute.stack.resources("aws_lb_listener_rule")}
    assert {compute.named("aws_lb_listener_rule", arn)["listener_arn"] for arn in rules} == listeners
    watched = group["alarm_configuration"]["alarms"]
    alarms = {reference.replace(".alarm_name}", ".arn}") for reference in watched}
    assert len(alarms) == len(watched) == 4
    assert all(compute.named("aws_cloudwatch_metric_alarm", arn)["namespace"] == "AWS/ApplicationELB" for arn in alarms)
    task = _task(compute, "api")
    task_roles = {task["execution_role_arn"], task["task_role_arn"]}

    grants = _grants(compute, role_id)
    service_arns = {resource for action, resource in grants if action == "ecs:CreateTaskSet"}
    assert len(service_arns) == 2
    for arn in service_arns:
        # This cluster's service (and its task sets), by the names CodeDeploy deploys.
        assert re.fullmatch(
            rf"arn:\$\{{data\.aws_partition\.[^}}]+\}}:ecs:\$\{{data\.aws_region\.[^}}]+\}}:\$\{{data\.aws_caller_identity\.[^}}]+\}}:"
            rf"(service|task-set)/{re.escape(cluster)}/{re.escape(service)}(/\*)?",
            arn,
        ), arn
    expected = {
        *((action, arn) for action in ("ecs:DescribeServices", "ecs:CreateTaskSet", "ecs:UpdateServicePrimaryTaskSet", "ecs:DeleteTaskSet") for arn in service_arns),
        *((action, "*") for action in ("elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules")),
        *(("elasticloadbalancing:ModifyListener", arn) for arn in listeners),
        *(("elasticloadbalancing:ModifyRule", arn) for arn in rules),
        *(("cloudwatch:DescribeAlarms", arn) for arn in alarms),
        *(("iam:PassRole", arn) for arn in task_roles),
    }
    assert grants == expected
    (pass_role,) = [statement for statement in compute.role_statements(role_id).values() if statement["actions"] == ["iam:PassRole"]]
    assert pass_role["condition"] == [{"test": "StringEquals", "variable": "iam:PassedToService", "values": ["ecs-tasks.amazonaws.com"]}]
    assert group["service_role_arn"] == compute.ref("aws_iam_role", role_id, "arn")


def test_the_deployment_group_waits_for_the_role_policy(compute):
    """CodeDeploy checks the role's permissions when the group is created: the policy must be attached first."""
    role_id, _ = compute.role("codedeploy")
    (policy_id,) = [logical_id for logical_id, body in compute.stack.resources("aws_iam_role_policy").items() if body["role"] == compute.ref("aws_iam_role", role_id, "id")]
    assert f"aws_iam_role_policy.{policy_id}" in compute.stack.only("aws_codedeploy_deployment_group")["depends_on"]


# --- Lambdas ----------------------------------------------------------------------------------

PROCESSOR_ENV = {"TRANSACTIONS_TABLE_NAME", "USER_INDEX_NAME", "ALERTS_TOPIC_ARN", "SCORING_CONFIG_PARAMETER", "TIME_BUCKET_SHARDS", "TRANSACTION_TTL_DAYS"}
ANALYZER_ENV = {"TRANSACTIONS_TABLE_NAME", "TIME_WINDOW_INDEX_NAME", "ALERTS_TOPIC_ARN", "SCORING_CONFIG_PARAMETER", "TIME_BUCKET_SHARDS", "ANALYSIS_WINDOW_MINUTES"}


def _function(compute, name: str) -> tuple[str, dict]:
    function_name = f"fraud-{name}-{compute.env}"
    logical_id = compute.id_of("aws_lambda_function", lambda body: body["function_name"] == function_name)
    return logical_id, compute.stack.resources("aws_lambda_function")[logical_id]


@pytest.mark.parametrize("name, handler, environment", [
    ("transaction-processor", "transaction_processor.handler.handler", PROCESSOR_ENV),
    ("pattern-analyzer", "pattern_analyzer.handler.handler", ANALYZER_ENV),
])
def test_functions_are_arm64_python311_traced_encrypted_and_capped(compute, name, handler, environment):
    _, function = _function(compute, name)
    assert function["runtime"] == "python3.11" and function["architectures"] == ["arm64"]
    assert function["handler"] == handler
    assert function["reserved_concurrent_executions"] == compute.config.compute.lambda_reserved_concurrency
    assert 1 <= function["reserved_concurrent_executions"] <= 5
    assert function["tracing_config"] == {"mode": "Active"}
    assert compute.data_key(function["kms_key_arn"]) == "storage"
    variables = function["environment"]["variables"]
    assert set(variables) == environment
    assert variables["TIME_BUCKET_SHARDS"] == str(compute.config.compute.time_bucket_shards)
    assert compute.named("aws_sns_topic", variables["ALERTS_TOPIC_ARN"])["name"] == f"fraud-alerts-{compute.env}"
    assert compute.upstream(variables["TRANSACTIONS_TABLE_NAME"])[1::2] == ("aws_dynamodb_table", "name")
    vpc = function["vpc_config"]
    assert {compute.network_tier(subnet) for subnet in vpc["subnet_ids"]} == {("aws_subnet", "application")}
    assert [compute.network_tier(group) for group in vpc["security_group_ids"]] == [("aws_security_group", "lambda")]


@pytest.mark.parametrize("name", ["transaction-processor", "pattern-analyzer"])
def test_function_log_group_exists_first_for_30_days_encrypted(compute, name):
    _, function = _function(compute, name)
    group_id = compute.id_of("aws_cloudwatch_log_group", lambda body: body["name"] == f"/aws/lambda/{function['function_name']}")
    group = compute.stack.resources("aws_cloudwatch_log_group")[group_id]
    assert group["retention_in_days"] == compute.config.compute.log_retention_days == 30
    assert compute.data_key(group["kms_key_id"]) == "logs"
    assert f"aws_cloudwatch_log_group.{group_id}" in function["depends_on"]


@pytest.mark.parametrize("name", ["transaction-processor", "pattern-analyzer"])
def test_failed_async_invocations_go_to_the_functions_encrypted_dead_letter_queue(compute, name):
    function_id, function = _function(compute, name)
    (config,) = [body for body in compute.stack.resources("aws_lambda_function_event_invoke_config").values() if body["function_name"] == compute.ref("aws_lambda_function", function_id, "function_name")]
    queue = compute.named("aws_sqs_queue", config["destination_config"]["on_failure"]["destination"])
    assert queue["name"] == f"fraud-{name}-dlq-{compute.env}"
    assert compute.data_key(queue["kms_master_key_id"]) == "messaging"
    assert queue["message_retention_seconds"] == 14 * 24 * 3600


def _function_permissions(compute, name) -> dict[str, dict]:
    _, function = _function(compute, name)
    (role_id,) = [logical_id for logical_id in compute.stack.resources("aws_iam_role") if function["role"] == compute.ref("aws_iam_role", logical_id, "arn")]
    return compute.role_statements(role_id)


RUNTIME_SIDS = {"WriteOwnLogs", "ActiveTracing", "DescribeVpcNetworkInterfaces", "CreateVpcNetworkInterfaces", "ManageVpcNetworkInterfaces", "DecryptEnvironment"}


def test_each_function_has_its_own_role(compute):
    roles = [function["role"] for function in compute.stack.resources("aws_lambda_function").values()]
    assert len(roles) == len(set(roles)) == 2


def test_processor_role_allows_exactly_what_its_code_calls(compute):
    statements = _function_permissions(compute, "transaction-processor")
    code = {sid: sorted(statement["actions"]) for sid, statement in statements.items() if sid not in RUNTIME_SIDS}
    assert code == {
        "ReadTransactionsAndUserHistory": ["dynamodb:Query"],
        "StoreTransactions": ["dynamodb:PutItem"],
        "PublishAlerts": ["sns:Publish"],
        "ReadScoringConfig": ["ssm:GetParameter"],
        "SendFailedInvocations": ["sqs:SendMessage"],
        "UseStorageKeyThroughDataServices": ["kms:Decrypt", "kms:GenerateDataKey"],
        "UseMessagingKeyThroughMessaging": ["kms:Decrypt", "kms:GenerateDataKey"],
    }
    table, index = statements["ReadTransactionsAndUserHistory"]["resources"]
    assert compute.upstream(table)[1::2] == ("aws_dynamodb_table", "arn")
    assert index == f"{table}/index/user-timestamp-index"
    assert statements["StoreTransactions"]["resources"] == [table]
    assert compute.named("aws_sns_topic", statements["PublishAlerts"]["resources"][0])["name"] == f"fraud-alerts-{compute.env}"
    assert compute.upstream(statements["ReadScoringConfig"]["resources"][0])[1::2] == ("aws_ssm_parameter", "arn")
    assert compute.data_key(statements["UseStorageKeyThroughDataServices"]["resources"][0]) == "storage"
    assert compute.data_key(statements["UseMessagingKeyThroughMessaging"]["resources"][0]) == "messaging"


def test_analyzer_role_reads_the_window_and_writes_only_finding_markers(compute):
    statements = _function_permissions(compute, "pattern-analyzer")
    code = {sid: sorted(statement["actions"]) for sid, statement in statements.items() if sid not in RUNTIME_SIDS}
    assert code == {
        "ReadTimeWindow": ["dynamodb:Query"],
        "ClaimFindingMarkers": ["dynamodb:DeleteItem", "dynamodb:PutItem"],
        "PublishAlerts": ["sns:Publish"],
        "ReadScoringConfig": ["ssm:GetParameter"],
        "SendFailedInvocations": ["sqs:SendMessage"],
        "UseStorageKeyThroughDataServices": ["kms:Decrypt", "kms:GenerateDataKey"],
        "UseMessagingKeyThroughMessaging": ["kms:Decrypt", "kms:GenerateDataKey"],
    }
    (index,) = statements["ReadTimeWindow"]["resources"]
    assert index.endswith("arn}/index/time-bucket-index")
    (marker_condition,) = statements["ClaimFindingMarkers"]["condition"]
    assert marker_condition == {"test": "ForAllValues:StringLike", "variable": "dynamodb:LeadingKeys", "values": ["finding#*"]}


def test_function_roles_trust_only_lambda_of_this_account(compute):
    for function in compute.stack.resources("aws_lambda_function").values():
        role = compute.named("aws_iam_role", function["role"])
        (statement,) = compute.policy(role["assume_role_policy"]).values()
        assert statement["principals"] == [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]
        assert statement["condition"][0]["variable"] == "aws:SourceAccount"


# --- Alerts -----------------------------------------------------------------------------------


def test_alerts_topic_is_encrypted_and_logs_delivery_status(compute):
    topic = compute.stack.only("aws_sns_topic")
    assert topic["name"] == f"fraud-alerts-{compute.env}"
    assert compute.data_key(topic["kms_master_key_id"]) == "messaging"
    role_id, role = compute.role("alerts-delivery-logs")
    role_arn = compute.ref("aws_iam_role", role_id, "arn")
    for protocol in ("sqs", "lambda", "http"):
        assert topic[f"{protocol}_success_feedback_role_arn"] == topic[f"{protocol}_failure_feedback_role_arn"] == role_arn
        assert 0 < topic[f"{protocol}_success_feedback_sample_rate"] <= 100
    (trust,) = compute.policy(role["assume_role_policy"]).values()
    assert trust["principals"] == [{"type": "Service", "identifiers": ["sns.amazonaws.com"]}]
    (statement,) = compute.role_statements(role_id).values()
    groups = {name for name, body in compute.stack.resources("aws_cloudwatch_log_group").items() if body["name"].startswith("sns/")}
    assert len(groups) == 2
    assert {resource.split(".")[1] for resource in statement["resources"]} == groups, "only its two delivery-status groups"


def test_alerts_queue_is_subscribed_raw_with_redrive_and_admits_only_the_topic(compute):
    queues = {body["name"]: (name, body) for name, body in compute.stack.resources("aws_sqs_queue").items()}
    queue_id, queue = queues[f"fraud-alerts-{compute.env}"]
    dlq_id, dlq = queues[f"fraud-alerts-dlq-{compute.env}"]
    redrive = json.loads(queue["redrive_policy"])
    assert redrive["deadLetterTargetArn"] == compute.ref("aws_sqs_queue", dlq_id, "arn") and redrive["maxReceiveCount"] >= 1
    allow_policy = json.loads(dlq["redrive_allow_policy"])
    (alerts_arn,) = compute.stack.own_arns("aws_sqs_queue", queue_id) - {compute.ref("aws_sqs_queue", queue_id, "arn")}
    assert allow_policy == {"redrivePermission": "byQueue", "sourceQueueArns": [alerts_arn]}
    assert dlq["redrive_allow_policy"] == json.dumps(allow_policy, separators=(",", ":")), "compact, as SQS gives it back"

    subscription = compute.stack.only("aws_sns_topic_subscription")
    (topic_id,) = compute.stack.resources("aws_sns_topic")
    topic_arn = compute.ref("aws_sns_topic", topic_id, "arn")
    assert (subscription["protocol"], subscription["endpoint"], subscription["topic_arn"]) == ("sqs", compute.ref("aws_sqs_queue", queue_id, "arn"), topic_arn)
    assert subscription["raw_message_delivery"] is True

    assert not compute.stack.resources("aws_sqs_queue_policy"), "each queue carries its policy"
    for queue_body in (queue, dlq):
        admit = compute.policy(queue_body["policy"])["AlertsTopicOnly"]
        assert admit["actions"] == ["sqs:SendMessage"]
        assert admit["principals"] == [{"type": "Service", "identifiers": ["sns.amazonaws.com"]}]
        assert admit["condition"] == [{"test": "ArnEquals", "variable": "aws:SourceArn", "values": [topic_arn]}]


def test_every_queue_is_encrypted_and_every_dead_letter_queue_keeps_14_days(compute):
    queues = compute.stack.resources("aws_sqs_queue").values()
    assert len(queues) == 5
    for queue in queues:
        assert compute.data_key(queue["kms_master_key_id"]) == "messaging"
        assert not queue.get("sqs_managed_sse_enabled")
        if queue["name"].endswith(f"-dlq-{compute.env}"):
            assert queue["message_retention_seconds"] == 1_209_600
    assert sum(queue["name"].endswith(f"-dlq-{compute.env}") for queue in queues) == 4


def test_every_log_group_is_encrypted_with_the_logs_key(compute):
    for group in compute.stack.resources("aws_cloudwatch_log_group").values():
        assert compute.data_key(group["kms_key_id"]) == "logs"
        if group["retention_in_days"] < 365:
            assert "CKV_AWS_338" in _skips(group), f"{group['name']}: why under a year must be recorded"


# --- Schedule ---------------------------------------------------------------------------------


def test_analyzer_runs_every_five_minutes_and_only_that_rule_may_invoke_it(compute):
    rule_id, rule = next(iter(compute.stack.resources("aws_cloudwatch_event_rule").items()))
    assert rule["schedule_expression"] == "rate(5 minutes)" and rule["state"] == "ENABLED"
    analyzer_id, _ = _function(compute, "pattern-analyzer")
    target = compute.stack.only("aws_cloudwatch_event_target")
    assert target["arn"] == compute.ref("aws_lambda_function", analyzer_id, "arn")
    assert target["rule"] == compute.ref("aws_cloudwatch_event_rule", rule_id, "name")
    assert compute.named("aws_sqs_queue", target["dead_letter_config"]["arn"])["name"] == f"fraud-pattern-analysis-dlq-{compute.env}"
    permission = compute.stack.only("aws_lambda_permission")
    assert permission["principal"] == "events.amazonaws.com" and permission["action"] == "lambda:InvokeFunction"
    assert permission["source_arn"] == compute.ref("aws_cloudwatch_event_rule", rule_id, "arn")
    assert permission["function_name"] == compute.ref("aws_lambda_function", analyzer_id, "function_name")


# --- Layer boundaries and outputs -------------------------------------------------------------


def test_compute_depends_only_on_network_and_data(synthesis):
    for environment in ENVIRONMENTS:
        name = stack_id(Layer.COMPUTE, environment)
        assert set(synthesis.manifest["stacks"][name]["dependencies"]) == {stack_id(Layer.NETWORK, environment), stack_id(Layer.DATA, environment)}
        keys = {body["config"]["key"] for body in synthesis.stack(Layer.COMPUTE, environment).data_sources("terraform_remote_state").values()}
        assert keys == {f"{environment}/network.tfstate", f"{environment}/data.tfstate"}


def test_outputs_keep_the_names_users_were_promised(compute):
    outputs = compute.stack.config["output"]
    assert outputs["alb_dns_name"]["value"] == compute.ref("aws_lb", next(iter(compute.stack.resources("aws_lb"))), "dns_name")
    assert outputs["ecs_cluster_name"]["value"] == "${aws_ecs_cluster.cluster.name}"


def test_contract_carries_every_value_edge_and_observability_read(synthesis):
    for environment in ENVIRONMENTS:
        contract = synthesis.stacks_by_environment[environment].compute.contract
        for field, value in vars(contract).items():
            values = vars(value).values() if hasattr(value, "__dataclass_fields__") else value if isinstance(value, tuple) else [value]
            assert values and all(isinstance(each, str) and each for each in values), field
        assert len(contract.dead_letter_queue_names) == 4
        assert contract.api_domain_name == synthesis.environments[environment].edge.api_domain_name
