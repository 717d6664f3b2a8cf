"""Step 0: the state bucket is versioned, encrypted, private and TLS-only, on local state."""

from __future__ import annotations

from tests.synthesis import SynthesizedStack


def test_state_bucket_is_versioned_encrypted_private_and_tls_only(synthesis):
    stack = SynthesizedStack("bootstrap", synthesis.outdir / "stacks" / "bootstrap")
    assert "local" in stack.config["terraform"]["backend"]
    bucket = stack.only("aws_s3_bucket")
    assert bucket["bucket"] == synthesis.environments["dev"].state.bucket
    assert stack.only("aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"
    default = stack.only("aws_s3_bucket_server_side_encryption_configuration")["rule"][0]["apply_server_side_encryption_by_default"]
    assert default["sse_algorithm"] == "aws:kms"
    block = stack.only("aws_s3_bucket_public_access_block")
    assert all(block[flag] for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    deny = [
        statement
        for document in stack.data_sources("aws_iam_policy_document").values()
        for statement in document["statement"]
        if statement.get("effect") == "Deny"
    ]
    assert [statement["condition"][0]["variable"] for statement in deny] == ["aws:SecureTransport"]
