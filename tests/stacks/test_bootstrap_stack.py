"""Step 0: the state bucket is versioned, encrypted, private, TLS-only and access-logged, on local state."""

from __future__ import annotations

import json

import pytest


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
        if statement.get("effect") == "Deny"
    ]
    assert len(deny) == len(bootstrap.resources("aws_s3_bucket")) == 2
    assert all(statement["condition"][0]["variable"] == "aws:SecureTransport" for statement in deny)


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
