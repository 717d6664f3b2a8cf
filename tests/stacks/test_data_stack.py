"""The data layer of every environment, property by property."""

from __future__ import annotations

import json
import re

import pytest
from cdktf import DefaultTokenResolver, StringConcat, Tokenization

from fraud_scoring import ScoringConfig
from stacks.layers import Layer
from tests.synthesis import points_at, reference

ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture(params=ENVIRONMENTS)
def data(request, synthesis):
    return synthesis.stack(Layer.DATA, request.param), synthesis.environments[request.param]


def _named(stack, resource_type: str, fragment: str) -> tuple[str, dict]:
    """The one resource of `resource_type` whose logical id contains `fragment`."""
    matches = [(name, body) for name, body in stack.resources(resource_type).items() if fragment in name]
    assert len(matches) == 1, f"{stack.name}: {resource_type} matching {fragment!r}: {[m[0] for m in matches]}"
    return matches[0]


def _keys(stack) -> dict[str, tuple[str, dict]]:
    """Key purpose (storage, messaging, logs) → (logical id, body)."""
    return {purpose: _named(stack, "aws_kms_key", f"keys_{purpose}_") for purpose in ("storage", "messaging", "logs")}


def _key_policy(stack, key_body: dict) -> list[dict]:
    _, document, attribute = reference(key_body["policy"].replace("data.aws_iam_policy_document", "aws_iam_policy_document"))
    assert attribute == "json"
    return stack.data_sources("aws_iam_policy_document")[document]["statement"]


def _condition(statement: dict, variable: str) -> dict:
    matches = [c for c in statement.get("condition", []) if c["variable"] == variable]
    assert len(matches) == 1, f"{statement.get('sid')}: no single {variable} condition"
    return matches[0]


def _storage_key_arn(stack) -> str:
    name, _ = _keys(stack)["storage"]
    return f"${{aws_kms_key.{name}.arn}}"


# --- keys ---------------------------------------------------------------------------------------


def test_three_rotating_keys_with_suffixed_aliases(data):
    stack, config = data
    keys = _keys(stack)
    assert len(stack.resources("aws_kms_key")) == 3
    for purpose, (name, body) in keys.items():
        assert body["enable_key_rotation"] is True
        assert body["deletion_window_in_days"] == config.data.kms_deletion_window_days
        (alias,) = [a for a in stack.resources("aws_kms_alias").values() if points_at(a["target_key_id"], "aws_kms_key", name, "key_id")]
        assert alias["name"] == f"alias/fraud-{purpose}-{config.name}"


def test_no_key_policy_names_a_wildcard_principal(data):
    stack, _ = data
    for _, body in _keys(stack).values():
        for statement in _key_policy(stack, body):
            for principal in statement["principals"]:
                assert "*" not in principal["identifiers"], statement["sid"]
            if statement["sid"] != "AccountAdministration":
                assert not any(action in ("kms:*", "*") for action in statement["actions"]), statement["sid"]
                assert statement.get("condition"), f"{statement['sid']} is not narrowed by any condition"


def test_logs_key_admits_cloudwatch_logs_for_this_accounts_log_groups_only(data):
    stack, _ = data
    statements = _key_policy(stack, _keys(stack)["logs"][1])
    (logs,) = [s for s in statements if s["principals"][0]["type"] == "Service"]
    assert re.fullmatch(r"logs\.\$\{data\.aws_region\.[^}]+\.name\}\.amazonaws\.com", logs["principals"][0]["identifiers"][0])
    context = _condition(logs, "kms:EncryptionContext:aws:logs:arn")
    assert context["test"] == "ArnLike"
    assert context["values"][0].endswith(":log-group:*") and "account_id}" in context["values"][0]
    assert "kms:CreateGrant" not in logs["actions"]


def test_messaging_key_admits_publishers_to_encrypted_topics_and_queues(data):
    stack, _ = data
    statements = _key_policy(stack, _keys(stack)["messaging"][1])
    services = {s["principals"][0]["identifiers"][0]: s for s in statements if s["principals"][0]["type"] == "Service"}
    assert set(services) == {"sns.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"}
    for principal, statement in services.items():
        assert set(statement["actions"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}, principal
        assert _condition(statement, "aws:SourceAccount")["values"][0].endswith("account_id}")
        source = _condition(statement, "aws:SourceArn")
        assert source["test"] == "ArnLike" and f":{principal.split('.')[0]}:" in source["values"][0]
    via = _via_services(statements)
    assert via == {"sns", "sqs"}


def test_storage_key_admits_only_the_stored_data_services_through_callers(data):
    stack, _ = data
    statements = _key_policy(stack, _keys(stack)["storage"][1])
    assert not [s for s in statements if s["principals"][0]["type"] == "Service"], "no service uses the storage key directly"
    assert _via_services(statements) == {"rds", "dynamodb", "secretsmanager", "ssm", "lambda"}
    (grants,) = [s for s in statements if "kms:CreateGrant" in s["actions"]]
    assert _condition(grants, "kms:GrantIsForAWSResource")["values"] == ["true"]


def _via_services(statements: list[dict]) -> set[str]:
    services = set()
    for statement in statements:
        conditions = {c["variable"]: c for c in statement.get("condition", [])}
        if "kms:ViaService" in conditions:
            assert conditions["kms:CallerAccount"]["values"][0].endswith("account_id}"), statement["sid"]
            assert statement["principals"][0]["identifiers"][0].startswith("arn:${data.aws_partition")
            for value in conditions["kms:ViaService"]["values"]:
                services.add(value.split(".", 1)[0])
    return services


# --- Aurora -------------------------------------------------------------------------------------


def test_aurora_is_serverless_v2_postgres_encrypted_private_and_iam_authenticated(data):
    stack, config = data
    cluster = stack.only("aws_rds_cluster")
    assert cluster["engine"] == "aurora-postgresql"
    assert cluster["engine_mode"] == "provisioned"
    assert cluster["engine_version"] == config.data.aurora_engine_version
    assert cluster["serverlessv2_scaling_configuration"] == {
        "min_capacity": config.data.aurora_min_capacity_acu,
        "max_capacity": config.data.aurora_max_capacity_acu,
    }
    assert cluster["storage_encrypted"] is True
    assert cluster["kms_key_id"] == _storage_key_arn(stack)
    assert cluster["iam_database_authentication_enabled"] is True
    assert cluster["enabled_cloudwatch_logs_exports"] == ["postgresql"]
    assert cluster["port"] == 5432
    assert cluster["cluster_identifier"] == f"fraud-aurora-{config.name}"
    (group,) = cluster["vpc_security_group_ids"]
    assert "terraform_remote_state" in group and "security-groups_database" in group
    for instance in stack.resources("aws_rds_cluster_instance").values():
        assert instance["publicly_accessible"] is False
        assert instance["instance_class"] == "db.serverless"


def test_aurora_backups_and_teardown_follow_the_environment(data):
    stack, config = data
    cluster = stack.only("aws_rds_cluster")
    assert cluster["backup_retention_period"] == config.data.backup_retention_days
    assert cluster["preferred_backup_window"] == config.data.preferred_backup_window
    assert cluster["copy_tags_to_snapshot"] is True
    assert cluster["deletion_protection"] is False
    # The final snapshot is the lifecycle's, named at teardown (tests/lifecycle/test_final_backups.py).
    assert cluster["skip_final_snapshot"] is True
    # Where final backups are kept, the automated ones outlive the cluster too, even destroyed by hand.
    assert cluster["delete_automated_backups"] is (not config.data.final_backups_on_destroy)


def test_aurora_sits_in_the_networks_data_subnets(data):
    stack, _ = data
    subnet_group = stack.only("aws_db_subnet_group")
    assert len(subnet_group["subnet_ids"]) == 3
    assert all("terraform_remote_state" in s and "_data-" in s for s in subnet_group["subnet_ids"])
    assert points_at(stack.only("aws_rds_cluster")["db_subnet_group_name"], "aws_db_subnet_group", *_only_name(stack, "aws_db_subnet_group"), "name")


def _only_name(stack, resource_type):
    (name,) = stack.resources(resource_type)
    return (name,)


def test_aurora_forces_tls_and_logs_connections_and_ddl(data):
    stack, config = data
    group = stack.only("aws_rds_cluster_parameter_group")
    assert group["family"] == f"aurora-postgresql{config.data.aurora_engine_version.split('.')[0]}"
    parameters = {p["name"]: p["value"] for p in group["parameter"]}
    assert parameters["rds.force_ssl"] == "1"
    assert parameters["log_connections"] == "1" and parameters["log_disconnections"] == "1"
    assert parameters["log_statement"] == "ddl"
    assert parameters["log_min_duration_statement"] == str(config.data.slow_query_log_ms)
    cluster = stack.only("aws_rds_cluster")
    assert points_at(cluster["db_cluster_parameter_group_name"], "aws_rds_cluster_parameter_group", *_only_name(stack, "aws_rds_cluster_parameter_group"), "name")


def test_aurora_logs_go_to_an_encrypted_group_created_first(data):
    stack, config = data
    cluster = stack.only("aws_rds_cluster")
    name, group = _named(stack, "aws_cloudwatch_log_group", "aurora_postgresql-logs")
    assert group["name"] == f"/aws/rds/cluster/{cluster['cluster_identifier']}/postgresql"
    assert group["retention_in_days"] == config.data.log_retention_days
    assert points_at(group["kms_key_id"], "aws_kms_key", _keys(stack)["logs"][0], "arn")
    assert f"aws_cloudwatch_log_group.{name}" in cluster["depends_on"]


def test_one_writer_and_a_reader_in_a_second_az_only_where_configured(data):
    stack, config = data
    instances = stack.resources("aws_rds_cluster_instance")
    writer_name, writer = _named(stack, "aws_rds_cluster_instance", "aurora_writer")
    assert writer["promotion_tier"] == 0
    if not config.data.aurora_reader_in_second_az:
        assert len(instances) == 1
        return
    assert len(instances) == 2
    _, reader = _named(stack, "aws_rds_cluster_instance", "aurora_reader")
    assert reader["availability_zone"] != writer["availability_zone"]
    subnets = stack.data_sources("aws_subnet")
    zone_sources = {reference(i["availability_zone"].replace("data.aws_subnet", "aws_subnet"))[1] for i in (writer, reader)}
    assert len({subnets[source]["id"] for source in zone_sources}) == 2, "writer and reader read the AZ of the same subnet"
    assert f"aws_rds_cluster_instance.{writer_name}" in reader["depends_on"]


def test_performance_insights_is_encrypted_with_the_storage_key(data):
    stack, config = data
    for instance in stack.resources("aws_rds_cluster_instance").values():
        assert instance["performance_insights_enabled"] is config.data.performance_insights_enabled
        if config.data.performance_insights_enabled:
            assert instance["performance_insights_kms_key_id"] == _storage_key_arn(stack)


def test_master_password_is_managed_by_rds_under_the_storage_key_and_rotated_on_schedule(data):
    stack, config = data
    cluster_name, cluster = next(iter(stack.resources("aws_rds_cluster").items()))
    assert cluster["manage_master_user_password"] is True
    assert cluster["master_user_secret_kms_key_id"] == _storage_key_arn(stack)
    (rotation,) = [
        r for r in stack.resources("aws_secretsmanager_secret_rotation").values()
        if r["secret_id"] == f"${{aws_rds_cluster.{cluster_name}.master_user_secret[0].secret_arn}}"
    ]
    # Managed rotation: RDS rotates, Secrets Manager only takes the schedule.
    assert "rotation_lambda_arn" not in rotation
    assert rotation["rotation_rules"] == {"automatically_after_days": config.data.secret_rotation_days}
    assert rotation["rotate_immediately"] is False


def test_no_password_anywhere_in_the_synthesized_stack(data):
    stack, _ = data
    text = (stack.directory / "cdk.tf.json").read_text()

    def walk(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                if "password" in key.lower():
                    assert key == "manage_master_user_password" and item is True, f"{stack.name}: {path}.{key}"
                walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")
        elif isinstance(value, str):
            assert "password" not in value.lower(), f"{stack.name}: {path} = {value[:80]!r}"

    walk(json.loads(text), "")
    assert "signing_key" not in text, "the API signing key must come from rotation, never from Terraform"


# --- DynamoDB -----------------------------------------------------------------------------------


def test_transactions_table_keys_indexes_and_protection(data):
    stack, config = data
    table = stack.only("aws_dynamodb_table")
    assert table["name"] == f"fraud-transactions-{config.name}"
    assert (table["hash_key"], table["range_key"]) == ("transaction_id", "timestamp")
    assert {a["name"]: a["type"] for a in table["attribute"]} == {
        "transaction_id": "S", "timestamp": "N", "user_id": "S", "time_bucket": "S",
    }
    indexes = {index["name"]: index for index in table["global_secondary_index"]}
    assert set(indexes) == {"user-timestamp-index", "time-bucket-index"}
    assert (indexes["user-timestamp-index"]["hash_key"], indexes["user-timestamp-index"]["range_key"]) == ("user_id", "timestamp")
    assert (indexes["time-bucket-index"]["hash_key"], indexes["time-bucket-index"]["range_key"]) == ("time_bucket", "timestamp")
    for index in indexes.values():
        assert index["projection_type"] == "INCLUDE" and index["non_key_attributes"]
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": _storage_key_arn(stack)}
    assert table["ttl"] == {"attribute_name": "expires_at", "enabled": True}
    assert table["stream_enabled"] is False
    assert table["deletion_protection_enabled"] is False


def test_indexes_project_what_the_functions_read(data):
    # The attributes each reader's ProjectionExpression names (services/transaction_processor/store.py,
    # services/pattern_analyzer/window.py); keys are always projected.
    stack, _ = data
    indexes = {index["name"]: set(index["non_key_attributes"]) for index in stack.only("aws_dynamodb_table")["global_secondary_index"]}
    assert {"amount", "country", "merchant_id"} <= indexes["user-timestamp-index"]
    assert {"user_id", "amount", "merchant_id", "decision"} <= indexes["time-bucket-index"]


# --- API configuration secret and its rotation --------------------------------------------------


def _api_secret(stack):
    return _named(stack, "aws_secretsmanager_secret", "api-config_secret")


def _rotation_function(stack):
    return _named(stack, "aws_lambda_function", "api-config_rotation-function")


def test_api_config_secret_is_encrypted_and_seeded_with_thresholds_only(data):
    stack, config = data
    secret_name, secret = _api_secret(stack)
    assert secret["name"] == f"fraud-api-config-{config.name}"
    assert secret["kms_key_id"] == _storage_key_arn(stack)
    assert secret["recovery_window_in_days"] == config.data.secret_recovery_window_days
    assert secret["recovery_window_in_days"] == (30 if config.name == "prod" else 0)
    (seed,) = stack.resources("aws_secretsmanager_secret_version").values()
    assert points_at(seed["secret_id"], "aws_secretsmanager_secret", secret_name, "id")
    document = json.loads(seed["secret_string"])
    assert set(document) == {"scoring"}
    assert ScoringConfig.from_mapping(document["scoring"]) == ScoringConfig.default()
    assert seed["lifecycle"]["ignore_changes"] == ["secret_string"]


def test_api_config_secret_rotates_through_the_rotation_function(data):
    stack, config = data
    secret_name, _ = _api_secret(stack)
    function_name, _ = _rotation_function(stack)
    (rotation,) = [
        r for r in stack.resources("aws_secretsmanager_secret_rotation").values()
        if r["secret_id"] == f"${{aws_secretsmanager_secret.{secret_name}.id}}"
    ]
    assert points_at(rotation["rotation_lambda_arn"], "aws_lambda_function", function_name, "arn")
    assert rotation["rotation_rules"] == {"automatically_after_days": config.data.secret_rotation_days}
    assert rotation["rotate_immediately"] is True
    (permission_name,) = stack.resources("aws_lambda_permission")
    (seed_name,) = stack.resources("aws_secretsmanager_secret_version")
    assert set(rotation["depends_on"]) == {
        f"aws_lambda_permission.{permission_name}",
        f"aws_secretsmanager_secret_version.{seed_name}",
    }


def test_only_secrets_manager_for_this_secret_and_account_may_invoke_the_rotation(data):
    stack, _ = data
    secret_name, _ = _api_secret(stack)
    function_name, _ = _rotation_function(stack)
    permission = stack.only("aws_lambda_permission")
    assert permission["principal"] == "secretsmanager.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    assert points_at(permission["function_name"], "aws_lambda_function", function_name, "function_name")
    assert points_at(permission["source_arn"], "aws_secretsmanager_secret", secret_name, "arn")
    assert permission["source_account"].endswith(".account_id}")


def test_rotation_function_runs_the_services_rotation_code(data):
    stack, config = data
    _, function = _rotation_function(stack)
    assert function["function_name"] == f"fraud-secret-rotation-{config.name}"
    assert function["handler"] == "secret_rotation.handler.handler"
    assert function["runtime"] == "python3.11" and function["architectures"] == ["arm64"]
    assert function["tracing_config"] == {"mode": "Active"}
    assert function["kms_key_arn"] == _storage_key_arn(stack)
    assert function["reserved_concurrent_executions"] == config.data.rotation_function_reserved_concurrency
    assert all("_application-" in subnet for subnet in function["vpc_config"]["subnet_ids"])
    (group,) = function["vpc_config"]["security_group_ids"]
    assert "security-groups_lambda" in group


def test_rotation_role_may_rotate_only_its_secret(data):
    stack, _ = data
    secret_name, _ = _api_secret(stack)
    documents = stack.data_sources("aws_iam_policy_document")
    (policy,) = [body for name, body in documents.items() if name.startswith("api-config_rotation-function_policy")]
    statements = {s["sid"]: s for s in policy["statement"]}
    rotate = statements["RotateThisSecret"]
    assert set(rotate["actions"]) == {
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
    }
    assert rotate["resources"] == [f"${{aws_secretsmanager_secret.{secret_name}.arn}}"]
    key = statements["UseStorageKeyThroughSecretsManager"]
    assert key["resources"] == [_storage_key_arn(stack)]
    assert _condition(key, "kms:ViaService")["values"][0].startswith("secretsmanager.")
    secrets_actions = [a for s in policy["statement"] for a in s["actions"] if a.startswith("secretsmanager:")]
    assert set(secrets_actions) == set(rotate["actions"])


# --- SSM ----------------------------------------------------------------------------------------


def test_scoring_config_parameter_holds_the_default_scoring_config(data):
    stack, config = data
    _, parameter = _named(stack, "aws_ssm_parameter", "parameters_scoring-config")
    assert parameter["name"] == f"/fraud-detection/{config.name}/scoring/config"
    assert parameter["type"] == "SecureString"
    assert parameter["key_id"] == _storage_key_arn(stack)
    value = json.loads(parameter["value"])
    assert value == config.data.scoring.to_document()
    assert ScoringConfig.from_mapping(value).to_mapping() == ScoringConfig.default().to_mapping()


def test_other_parameters_are_plain_names_under_the_environment_path(data):
    stack, config = data
    parameters = {body["name"]: body for body in stack.resources("aws_ssm_parameter").values()}
    plain = {name: body for name, body in parameters.items() if body["type"] == "String"}
    assert set(plain) == {
        f"/fraud-detection/{config.name}/{path}"
        for path in (
            "database/writer-endpoint",
            "database/reader-endpoint",
            "database/port",
            "database/name",
            "transactions/table-name",
            "transactions/user-index-name",
            "transactions/time-window-index-name",
        )
    }
    assert plain[f"/fraud-detection/{config.name}/transactions/user-index-name"]["value"] == "user-timestamp-index"
    assert plain[f"/fraud-detection/{config.name}/transactions/time-window-index-name"]["value"] == "time-bucket-index"
    assert set(parameters) - set(plain) == {f"/fraud-detection/{config.name}/scoring/config"}


# --- the contract -------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_contract_values_are_the_right_resources_attributes(synthesis, environment):
    stack = synthesis.stacks_by_environment[environment].data
    synthesized = synthesis.stack(Layer.DATA, environment)
    contract = stack.contract

    def resolved(value):
        return Tokenization.resolve(value, scope=stack, resolver=DefaultTokenResolver(StringConcat()))

    def resource(fragment, resource_type, attribute):
        name, _ = _named(synthesized, resource_type, fragment)
        return f"${{{resource_type}.{name}.{attribute}}}"

    cluster = lambda attribute: resource("aurora_cluster", "aws_rds_cluster", attribute)  # noqa: E731
    expected = {
        "storage_key_arn": resource("keys_storage_", "aws_kms_key", "arn"),
        "messaging_key_arn": resource("keys_messaging_", "aws_kms_key", "arn"),
        "logs_key_arn": resource("keys_logs_", "aws_kms_key", "arn"),
        "database_cluster_identifier": cluster("cluster_identifier"),
        "database_writer_endpoint": cluster("endpoint"),
        "database_port": cluster("port"),
        "database_name": cluster("database_name"),
        "database_master_secret_arn": cluster("master_user_secret[0].secret_arn"),
        "api_config_secret_arn": resource("api-config_secret", "aws_secretsmanager_secret", "arn"),
        "transactions_table_name": resource("transactions_table", "aws_dynamodb_table", "name"),
        "transactions_table_arn": resource("transactions_table", "aws_dynamodb_table", "arn"),
        "scoring_config_parameter_name": resource("parameters_scoring-config", "aws_ssm_parameter", "name"),
        "scoring_config_parameter_arn": resource("parameters_scoring-config", "aws_ssm_parameter", "arn"),
    }
    for field, reference in expected.items():
        assert resolved(getattr(contract, field)) == reference, field
    assert contract.user_index_name == "user-timestamp-index"
    assert contract.time_window_index_name == "time-bucket-index"
