"""Step 0: the state bucket is versioned, encrypted, private, TLS-only and access-logged, on local state."""

from __future__ import annotations

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
