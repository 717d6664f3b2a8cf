"""Step 0: the state bucket is versioned, encrypted, private, TLS-only and access-logged, on local state;
the audit-log archive outlives every environment."""

from __future__ import annotations

import json

import pytest

from stacks.layers import Layer


@pytest.fixture
def bootstrap(synthesis):
    return synthesis.stack_by_name("bootstrap")


def _by_bucket(stack, resource_type, bucket_logical_id):
    return [body for body in stack.resources(resource_type).values() if f"aws_s3_bucket.{bucket_logical_id}." in body["bucket"]]


def test_state_bucket_is_versioned_encrypted_private_and_tls_only(bootstrap, synthesis):
    assert "local" in bootstrap.config["terraform"]["backend"]
    (state_id,) = [name for name, body in bootstrap.resources("aws_s3_bucket").items() if body["bucket"] == synthesis.environments["dev"].state.bucket]
    (versioning,) = _by_bucket(bootstrap, "aws_s3_bucket_versioning", state_id)
    assert versioning["versioning_configuration"]["status"] == "Enabled"
    (encryption,) = _by_bucket(bootstrap, "aws_s3_bucket_server_side_encryption_configuration", state_id)
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    (block,) = _by_bucket(bootstrap, "aws_s3_bucket_public_access_block", state_id)
    assert all(block[flag] for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    (logging,) = _by_bucket(bootstrap, "aws_s3_bucket_logging", state_id)
    assert "state-access-logs" in logging["target_bucket"]
    (lifecycle,) = _by_bucket(bootstrap, "aws_s3_bucket_lifecycle_configuration", state_id)
    assert "expiration" not in lifecycle["rule"][0], "current state must never expire"


def test_every_bootstrap_bucket_denies_insecure_transport(bootstrap):
    deny = [
        statement
        for document in bootstrap.data_sources("aws_iam_policy_document").values()
        for statement in document["statement"]
        if statement.get("effect") == "Deny" and statement["sid"] == "DenyInsecureTransport"
    ]
    assert len(deny) == len(bootstrap.resources("aws_s3_bucket")) == 4
    assert all(statement["condition"][0]["variable"] == "aws:SecureTransport" for statement in deny)


# --- the audit-log archive: what outlives an environment's teardown -----------------------------

ARCHIVES = {"flow-logs": "vpc-flow-logs", "load-balancer-logs": "alb"}


def _archive_bucket(bootstrap, construct: str) -> tuple[str, dict]:
    (found,) = [
        (name, body) for name, body in bootstrap.resources("aws_s3_bucket").items()
        if body["//"]["metadata"]["path"] == f"bootstrap/audit-logs/{construct}/bucket"
    ]
    return found


def _bucket_policy(bootstrap, bucket_id: str) -> dict[str, dict]:
    (policy,) = _by_bucket(bootstrap, "aws_s3_bucket_policy", bucket_id)
    document = policy["policy"].removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
    return {statement["sid"]: statement for statement in bootstrap.data_sources("aws_iam_policy_document")[document]["statement"]}


@pytest.mark.parametrize("construct", ARCHIVES)
def test_the_audit_log_archive_is_kept_a_year_and_never_emptied_or_deleted_from(bootstrap, construct):
    from config.environments import build_account

    bucket_id, bucket = _archive_bucket(bootstrap, construct)
    # No force_destroy: destroying the bucket fails while it holds a log.
    assert bucket["force_destroy"] is False
    (versioning,) = _by_bucket(bootstrap, "aws_s3_bucket_versioning", bucket_id)
    assert versioning["versioning_configuration"]["status"] == "Enabled"
    (lifecycle,) = _by_bucket(bootstrap, "aws_s3_bucket_lifecycle_configuration", bucket_id)
    assert lifecycle["rule"][0]["expiration"] == [{"days": build_account().audit_log_retention_days}]
    assert build_account().audit_log_retention_days >= 365
    (block,) = _by_bucket(bootstrap, "aws_s3_bucket_public_access_block", bucket_id)
    assert all(block[flag] for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    deny = _bucket_policy(bootstrap, bucket_id)["DenyDeletingAuditLogs"]
    assert deny["effect"] == "Deny" and deny["principals"] == [{"type": "*", "identifiers": ["*"]}]
    assert sorted(deny["actions"]) == ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    assert deny["resources"] == [f"${{aws_s3_bucket.{bucket_id}.arn}}/*"] and "condition" not in deny


def test_the_archive_admits_each_delivery_under_its_prefix_with_the_encryption_it_accepts(bootstrap):
    account = "${data.aws_caller_identity.context_caller_CB9F32B7.account_id}"
    flow_id, _ = _archive_bucket(bootstrap, "flow-logs")
    (encryption,) = _by_bucket(bootstrap, "aws_s3_bucket_server_side_encryption_configuration", flow_id)
    default = encryption["rule"][0]["apply_server_side_encryption_by_default"]
    assert default["sse_algorithm"] == "aws:kms" and default["kms_master_key_id"].startswith("${aws_kms_key.audit-logs_key_")
    write = _bucket_policy(bootstrap, flow_id)["AWSLogDeliveryWrite"]
    assert write["principals"] == [{"type": "Service", "identifiers": ["delivery.logs.amazonaws.com"]}]
    assert write["resources"] == [f"${{aws_s3_bucket.{flow_id}.arn}}/vpc-flow-logs/*/AWSLogs/{account}/*"]
    (key_policy,) = [d for name, d in bootstrap.data_sources("aws_iam_policy_document").items() if name.startswith("audit-logs_key_policy")]
    (grant,) = [statement for statement in key_policy["statement"] if statement.get("sid") == "FlowLogDelivery"]
    assert grant["principals"] == [{"type": "Service", "identifiers": ["delivery.logs.amazonaws.com"]}]

    alb_id, _ = _archive_bucket(bootstrap, "load-balancer-logs")
    (encryption,) = _by_bucket(bootstrap, "aws_s3_bucket_server_side_encryption_configuration", alb_id)
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    statements = _bucket_policy(bootstrap, alb_id)
    for sid in ("ElbLogDelivery", "ElbLogDeliveryLegacyRegions"):
        assert statements[sid]["actions"] == ["s3:PutObject"]
        assert statements[sid]["resources"] == [f"${{aws_s3_bucket.{alb_id}.arn}}/alb/*/AWSLogs/{account}/*"]
    assert statements["ElbLogDelivery"]["principals"] == [{"type": "Service", "identifiers": ["logdelivery.elasticloadbalancing.amazonaws.com"]}]


def test_environments_that_keep_their_logs_deliver_into_exactly_these_buckets(bootstrap, synthesis):
    """The environment stacks name the archive from the project, account and region; those names
    must be the bootstrap's buckets, or the first delivery fails (or lands in someone else's)."""
    flow_bucket = _archive_bucket(bootstrap, "flow-logs")[1]["bucket"]
    alb_bucket = _archive_bucket(bootstrap, "load-balancer-logs")[1]["bucket"]
    archived = 0
    for name, config in synthesis.environments.items():
        (flow_log,) = synthesis.stack(Layer.NETWORK, name).resources("aws_flow_log").values()
        (balancer,) = synthesis.stack(Layer.COMPUTE, name).resources("aws_lb").values()
        if config.network.flow_logs_to_account_archive:
            assert flow_log["log_destination"].endswith(f":s3:::{flow_bucket}/vpc-flow-logs/{name}/")
            archived += 1
        if config.compute.access_logs_to_account_archive:
            assert balancer["access_logs"]["bucket"] == alb_bucket and balancer["access_logs"]["prefix"] == f"alb/{name}"
            archived += 1
    assert archived == 2, "prod's flow logs and ALB access logs"


def test_the_image_repository_keeps_promoted_images_immutable_scanned_and_encrypted(bootstrap, synthesis):
    from config.environments import build_account

    account = build_account()
    (repository,) = bootstrap.resources("aws_ecr_repository").values()
    assert repository["name"] == account.image_repository
    assert repository["image_tag_mutability"] == "IMMUTABLE"
    assert repository["image_scanning_configuration"] == {"scan_on_push": True}
    (encryption,) = repository["encryption_configuration"]
    assert encryption["encryption_type"] == "KMS"
    key_id = encryption["kms_key"].split(".")[1]
    key_policy = bootstrap.data_sources("aws_iam_policy_document")[bootstrap.resources("aws_kms_key")[key_id]["policy"].split(".")[2]]
    # The account's principals use the key only through ECR (pushes, pulls), never directly.
    via = [c["values"] for s in key_policy["statement"] for c in s.get("condition", []) if c["variable"] == "kms:ViaService"]
    assert via and all(len(values) == 1 and values[0].startswith("ecr.") for values in via)

    (lifecycle,) = bootstrap.resources("aws_ecr_lifecycle_policy").values()
    rules = sorted(json.loads(lifecycle["policy"])["rules"], key=lambda rule: rule["rulePriority"])
    # ECR evaluates a `tagStatus: any` rule only as the last one.
    assert [rule["selection"]["tagStatus"] for rule in rules] == ["untagged", "any"]
    assert rules[-1]["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": account.images_kept}
    assert "image_repository_url" in bootstrap.config["output"]


def test_the_fraud_api_image_names_the_bootstrap_repository(synthesis):
    from config.environments import build_account

    for config in synthesis.environments.values():
        reference = config.compute.fraud_api_image
        assert reference.split("@")[0].split(":")[0] == build_account().image_repository, config.name
