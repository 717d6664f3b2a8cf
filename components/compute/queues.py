"""The platform's SQS queues: every one encrypted with the environment's messaging key, and
dead-letter queues kept long enough to replay an incident found late."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

# SQS's maximum: an incident found late can still be replayed from its dead letters.
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
# How long SQS reuses a data key before calling KMS again (AWS's default): fewer KMS requests
# and their cost, at no loss of protection for the messages.
DATA_KEY_REUSE_SECONDS = 300


def encrypted_queue(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    messaging_key_arn: str,
    retention_seconds: int,
    visibility_timeout_seconds: int | None = None,
    redrive_policy: str | None = None,
) -> SqsQueue:
    return SqsQueue(
        scope,
        construct_id,
        name=name,
        kms_master_key_id=messaging_key_arn,
        kms_data_key_reuse_period_seconds=DATA_KEY_REUSE_SECONDS,
        message_retention_seconds=retention_seconds,
        visibility_timeout_seconds=visibility_timeout_seconds,
        redrive_policy=redrive_policy,
    )


def dead_letter_queue(scope: Construct, construct_id: str, *, name: str, messaging_key_arn: str) -> SqsQueue:
    return encrypted_queue(
        scope, construct_id, name=name, messaging_key_arn=messaging_key_arn, retention_seconds=DEAD_LETTER_RETENTION_SECONDS
    )
