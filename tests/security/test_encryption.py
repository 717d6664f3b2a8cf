"""Encryption at rest with the environment's own keys, and in transit with TLS 1.2 or later.

A key reference counts only if it resolves to an `aws_kms_key` of the same environment: the
data layer's key read through remote state of `<env>/data.tfstate`, or a key of the stack itself
(the network layer's flow-log key, the bootstrap's state key). Which of the data layer's three
keys protects what is fixed by their key policies (docs/data.md), so the tests name the key.
"""

from __future__ import annotations

import pytest

from tests.security.policies import policy_uses
from tests.security.synthesized import (
    BOOTSTRAP,
    ENVIRONMENTS,
    STACK_NAMES,
    Platform,
    Stack,
)

STORAGE_KEY, MESSAGING_KEY, LOGS_KEY = "keys/storage/key", "keys/messaging/key", "keys/logs/key"

# (resource type, attribute) → the data-layer key that must protect it, and when the rule applies.
ENCRYPTED_WITH: dict[tuple[str, str], str] = {
    ("aws_cloudwatch_log_group", "kms_key_id"): LOGS_KEY,
    ("aws_sns_topic", "kms_master_key_id"): MESSAGING_KEY,
    ("aws_sqs_queue", "kms_master_key_id"): MESSAGING_KEY,
    ("aws_secretsmanager_secret", "kms_key_id"): STORAGE_KEY,
    ("aws_dynamodb_table", "server_side_encryption.kms_key_arn"): STORAGE_KEY,
    ("aws_rds_cluster", "kms_key_id"): STORAGE_KEY,
    ("aws_rds_cluster", "master_user_secret_kms_key_id"): STORAGE_KEY,
    ("aws_rds_cluster_instance", "performance_insights_kms_key_id"): STORAGE_KEY,
    ("aws_ssm_parameter", "key_id"): STORAGE_KEY,
    ("aws_lambda_function", "kms_key_arn"): STORAGE_KEY,
}


def applies(resource_type: str, body: dict) -> bool:
    if resource_type == "aws_ssm_parameter":
        return body["type"] == "SecureString"
    if resource_type == "aws_rds_cluster_instance":
        return bool(body.get("performance_insights_enabled"))
    return True


# Buckets AWS can only deliver to with SSE-S3 (construct path → why). Everything else uses a CMK.
SSE_S3_BUCKETS: dict[tuple[str, str], str] = {
    ("compute", "Default/load-balancer/access-logs/bucket"): "ALB access logs: Elastic Load Balancing delivers only to SSE-S3 (AES256) buckets",
    (BOOTSTRAP, "state-access-logs/bucket"): "S3 server access logs: S3 log delivery writes only to SSE-S3 target buckets",
    (BOOTSTRAP, "audit-logs/load-balancer-logs/bucket"): "the account's archive of ALB access logs: Elastic Load Balancing delivers only to SSE-S3 (AES256) buckets",
}
TLS_1_2_POLICIES = {
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "ELBSecurityPolicy-FS-1-2-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
}


@pytest.fixture(params=STACK_NAMES)
def stack(request, platform: Platform) -> Stack:
    return platform.stack(request.param)


def attribute(body: dict, dotted: str):
    value = body
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def environment_key(platform: Platform, stack: Stack, expression: str | None) -> tuple[str, str] | None:
    """(stack, construct path) of the KMS key `expression` names, if it is a key of `stack`'s environment."""
    address = platform.resolve(stack, expression) if isinstance(expression, str) else None
    if address is None or address.type != "aws_kms_key" or address.attribute not in ("arn", "id", "key_id"):
        return None
    if platform.stack(address.stack).environment != stack.environment:
        return None
    return address.stack, platform.path(address)


# --- At rest ---------------------------------------------------------------------------------------


def test_every_store_is_encrypted_with_its_environments_key(stack, platform):
    for (resource_type, dotted), purpose in ENCRYPTED_WITH.items():
        for logical_id, body in stack.resources(resource_type).items():
            if not applies(resource_type, body):
                continue
            key = environment_key(platform, stack, attribute(body, dotted))
            assert key is not None, f"{stack.name}: {resource_type}.{logical_id}.{dotted} is not a key of this environment"
            assert key == (f"data-{stack.environment}", purpose), f"{stack.name}: {resource_type}.{logical_id} uses {key}, not {purpose}"


def test_every_kind_of_store_is_there_to_be_checked(platform):
    """The rules above must not pass because a resource type was renamed or moved away."""
    present = {
        (resource_type, dotted)
        for stack in platform.stacks.values()
        for resource_type, dotted in ENCRYPTED_WITH
        if any(applies(resource_type, body) for body in stack.resources(resource_type).values())
    }
    assert present == set(ENCRYPTED_WITH)


def test_switches_that_would_bypass_the_key_are_off(stack):
    for logical_id, table in stack.resources("aws_dynamodb_table").items():
        assert table["server_side_encryption"]["enabled"] is True, f"{stack.name}: {logical_id}"
    for logical_id, queue in stack.resources("aws_sqs_queue").items():
        assert not queue.get("sqs_managed_sse_enabled"), f"{stack.name}: {logical_id} uses SQS-owned keys"
    for logical_id, cluster in stack.resources("aws_rds_cluster").items():
        assert cluster["storage_encrypted"] is True, f"{stack.name}: {logical_id}"
        assert cluster.get("manage_master_user_password") is True and "master_password" not in cluster, f"{stack.name}: {logical_id}"
    for logical_id, parameter in stack.resources("aws_ssm_parameter").items():
        if parameter["type"] != "SecureString":
            # Plain parameters hold names and endpoints only (docs/data.md); nothing secret by its name.
            assert not any(word in parameter["name"].lower() for word in ("secret", "password", "token", "credential", "key")), (
                f"{stack.name}: {parameter['name']} is {parameter['type']}"
            )


def test_every_bucket_is_encrypted_with_a_key_of_its_own_stack(stack, platform):
    encryption = {
        platform.resolve(stack, body["bucket"]).logical_id: body["rule"]
        for body in stack.resources("aws_s3_bucket_server_side_encryption_configuration").values()
    }
    for logical_id in stack.resources("aws_s3_bucket"):
        assert logical_id in encryption, f"{stack.name}: bucket {logical_id} has no default encryption"
        (rule,) = encryption[logical_id]
        default = rule["apply_server_side_encryption_by_default"]
        if (stack.layer, stack.path("aws_s3_bucket", logical_id)) in SSE_S3_BUCKETS:
            assert default == {"sse_algorithm": "AES256"}, f"{stack.name}: {logical_id} is listed as SSE-S3 only"
            continue
        assert default["sse_algorithm"] == "aws:kms", f"{stack.name}: {logical_id} is not encrypted with a CMK"
        key = environment_key(platform, stack, default.get("kms_master_key_id"))
        assert key is not None and key[0] == stack.name, f"{stack.name}: bucket {logical_id} is not encrypted with a key of this stack"
        assert rule["bucket_key_enabled"] is True


def test_every_sse_s3_exception_still_names_a_bucket(platform):
    buckets = {(stack.layer, stack.path("aws_s3_bucket", logical_id)) for stack in platform.stacks.values() for logical_id in stack.resources("aws_s3_bucket")}
    assert set(SSE_S3_BUCKETS) <= buckets, f"stale: {sorted(set(SSE_S3_BUCKETS) - buckets)}"


def test_every_bucket_is_private(stack, platform):
    blocked = {platform.resolve(stack, body["bucket"]).logical_id: body for body in stack.resources("aws_s3_bucket_public_access_block").values()}
    for logical_id in stack.resources("aws_s3_bucket"):
        settings = blocked.get(logical_id, {})
        flags = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
        assert all(settings.get(flag) is True for flag in flags), f"{stack.name}: bucket {logical_id} does not block public access"


# --- In transit ------------------------------------------------------------------------------------


def denies_insecure_transport(statements, own_arns: list[set[str]]) -> bool:
    """A deny of every action to everyone without TLS, on all of one of `own_arns` (the resource
    under any one of its names, with a bucket's objects)."""
    return any(
        not statement.allows
        and statement.names_everyone()
        and ("Bool", "aws:SecureTransport", ("false",)) in statement.conditions
        and any(arns <= set(statement.resources) for arns in own_arns)
        and any(action == "*" or action.endswith(":*") for action in statement.actions)
        for statement in statements
    )


# Which policy protects which resource, and by which argument (None: the resource carries it).
POLICY_OF = {
    "aws_s3_bucket": ("aws_s3_bucket_policy", "bucket"),
    "aws_sqs_queue": ("aws_sqs_queue", None),
    "aws_sns_topic": ("aws_sns_topic_policy", "arn"),
}


@pytest.mark.parametrize("resource_type", sorted(POLICY_OF))
def test_buckets_queues_and_topics_refuse_requests_without_tls(stack, platform, resource_type):
    policy_type, argument = POLICY_OF[resource_type]
    policies = {}
    for use in policy_uses(stack):
        if use.resource_type == policy_type:
            policies[use.logical_id if argument is None else platform.resolve(stack, use.body[argument]).logical_id] = use.statements
    for logical_id in stack.resources(resource_type):
        own = [{arn, f"{arn}/*"} if resource_type == "aws_s3_bucket" else {arn} for arn in stack.own_arns(resource_type, logical_id)]
        if resource_type == "aws_sns_topic":
            # As AWS's SNS guidance does: deny sns:Publish, the call that carries data, without TLS.
            statements = policies.get(logical_id, ())
            assert any(
                not s.allows and s.names_everyone() and ("Bool", "aws:SecureTransport", ("false",)) in s.conditions and "sns:Publish" in s.actions
                for s in statements
            ), f"{stack.name}: topic {logical_id} accepts publishes without TLS"
            continue
        assert denies_insecure_transport(policies.get(logical_id, ()), own), f"{stack.name}: {resource_type} {logical_id} accepts requests without TLS"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_database_accepts_only_tls_connections(platform, environment):
    data = platform.stack(f"data-{environment}")
    (cluster,) = data.resources("aws_rds_cluster").values()
    group = platform.resolve(data, cluster["db_cluster_parameter_group_name"])
    assert group is not None and group.type == "aws_rds_cluster_parameter_group", "the cluster must use the stack's parameter group"
    parameters = {parameter["name"]: parameter["value"] for parameter in platform.body(group)["parameter"]}
    assert parameters.get("rds.force_ssl") == "1"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_load_balancers_speak_tls_1_2_or_later_or_pass_tls_through(platform, environment):
    listeners = [(stack, logical_id, body) for stack in platform.environment(environment) for logical_id, body in stack.resources("aws_lb_listener").items()]
    assert listeners
    for stack, logical_id, listener in listeners:
        if listener["protocol"] == "TCP":
            # The edge NLB forwards TCP 443 to the ALB, which terminates TLS: pass-through, never plain HTTP.
            (action,) = listener["default_action"]
            group = platform.body(platform.resolve(stack, action["target_group_arn"]))
            assert (listener["port"], group["target_type"], group["port"]) == (443, "alb", 443), f"{stack.name}: {logical_id}"
            continue
        assert listener["protocol"] in ("HTTPS", "TLS"), f"{stack.name}: {logical_id} listens in plain {listener['protocol']}"
        assert listener["ssl_policy"] in TLS_1_2_POLICIES, f"{stack.name}: {logical_id} allows {listener['ssl_policy']}"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_api_gateway_uses_tls_1_2_and_verifies_the_backend(platform, environment):
    edge = platform.stack(f"edge-{environment}")
    for logical_id, domain in edge.resources("aws_api_gateway_domain_name").items():
        assert domain["security_policy"] == "TLS_1_2", f"{edge.name}: {logical_id}"
    for logical_id, integration in edge.resources("aws_api_gateway_integration").items():
        if integration["type"].startswith("HTTP"):
            assert integration["uri"].startswith("https://"), f"{edge.name}: {logical_id}"
            assert integration.get("tls_config", {}).get("insecure_skip_verification") is False, f"{edge.name}: {logical_id}"
