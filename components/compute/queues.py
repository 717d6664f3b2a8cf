"""The platform's SQS queues: every one encrypted with the environment's messaging key, refusing
plain-HTTP requests and admitting only the sender it names, and dead-letter queues kept long
enough to replay an incident found late.

A queue's policy (and a dead-letter queue's redrive-allow policy) is set with the queue, not by
separate policy resources: the provider waits ~25 s after creating or deleting each of those
until SQS reports the change, which put three such waits in a row on the compute layer's
deploy and one more on its destroy. The queue's own ARN in its policy is built from its name,
as SQS builds it, since a resource cannot read its own attribute (docs/compute.md, "Alerts").
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from components.aws_context import AwsContext
from components.security.policy_statements import allow_service_from_source
from components.security.resource_policies import queue_policy_document

# SQS's maximum: an incident found late can still be replayed from its dead letters.
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
# How long SQS reuses a data key before calling KMS again (AWS's default): fewer KMS requests
# and their cost, at no loss of protection for the messages.
DATA_KEY_REUSE_SECONDS = 300


@dataclass(frozen=True)
class QueueSender:
    """An AWS service that may send to a queue, and only on behalf of `source_arn`. A queue without
    one admits no service: the platform's own code sends with its role's permissions."""

    sid: str
    service_principal: str
    source_arn: str


def queue_arn(context: AwsContext, name: str) -> str:
    return context.arn("sqs", name)


def encrypted_queue(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    context: AwsContext,
    messaging_key_arn: str,
    retention_seconds: int,
    sender: QueueSender | None = None,
    visibility_timeout_seconds: int | None = None,
    redrive_policy: str | None = None,
    redrive_allow_policy: str | None = None,
) -> SqsQueue:
    """The queue `name`, carrying its policy (document `<construct_id>-policy-document`): TLS only,
    and `sender`."""
    own_arn = queue_arn(context, name)
    senders = [
        allow_service_from_source(sid=sender.sid, service_principal=sender.service_principal, actions=["sqs:SendMessage"], resources=[own_arn], source_arn=sender.source_arn)
    ] if sender else []
    policy = queue_policy_document(scope, f"{construct_id}-policy", queue_arn=own_arn, senders=senders)
    return SqsQueue(
        scope,
        construct_id,
        name=name,
        kms_master_key_id=messaging_key_arn,
        kms_data_key_reuse_period_seconds=DATA_KEY_REUSE_SECONDS,
        message_retention_seconds=retention_seconds,
        visibility_timeout_seconds=visibility_timeout_seconds,
        policy=policy.json,
        redrive_policy=redrive_policy,
        redrive_allow_policy=redrive_allow_policy,
    )


def dead_letter_queue(
    scope: Construct, construct_id: str, *, name: str, context: AwsContext, messaging_key_arn: str, sender: QueueSender | None = None, redrive_allow_policy: str | None = None
) -> SqsQueue:
    """What could not be delivered or processed, kept as long as SQS allows."""
    return encrypted_queue(
        scope, construct_id, name=name, context=context, messaging_key_arn=messaging_key_arn, retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
        sender=sender, redrive_allow_policy=redrive_allow_policy,
    )
