"""Every queue carries its own policy (TLS only, the named senders) and its messaging key."""

from __future__ import annotations

import json

from components.aws_context import AwsContext
from components.compute.queues import DEAD_LETTER_RETENTION_SECONDS, QueueSender, dead_letter_queue, queue_arn

TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:fraud-alerts-test"


def test_a_queue_carries_its_policy_naming_its_own_arn_and_no_policy_resource(bare_stack):
    stack, synth = bare_stack
    context = AwsContext(stack, "context")
    dead_letter_queue(
        stack,
        "dead-letters",
        name="fraud-q-dlq-test",
        context=context,
        messaging_key_arn="arn:aws:kms:us-east-1:111122223333:key/m",
        sender=QueueSender(sid="TopicOnly", service_principal="sns.amazonaws.com", source_arn=TOPIC_ARN),
        redrive_allow_policy=json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [queue_arn(context, "fraud-q-test")]}),
    )
    config = synth()
    (queue,) = config["resource"]["aws_sqs_queue"].values()
    assert "aws_sqs_queue_policy" not in config["resource"]
    (document_id,) = config["data"]["aws_iam_policy_document"]
    assert queue["policy"] == f"${{data.aws_iam_policy_document.{document_id}.json}}"
    statements = {statement["sid"]: statement for statement in config["data"]["aws_iam_policy_document"][document_id]["statement"]}
    assert list(statements) == ["TopicOnly", "DenyInsecureTransport"]
    # The queue's own ARN, built as SQS builds it from the account, region and name.
    expected_arn = (
        "arn:${data.aws_partition.context_partition_B73F2326.partition}:sqs:${data.aws_region.context_region_3F66BB3A.name}:"
        "${data.aws_caller_identity.context_caller_CB9F32B7.account_id}:fraud-q-dlq-test"
    )
    assert statements["TopicOnly"]["resources"] == statements["DenyInsecureTransport"]["resources"] == [expected_arn]
    assert statements["TopicOnly"]["actions"] == ["sqs:SendMessage"]
    assert statements["TopicOnly"]["condition"] == [{"test": "ArnEquals", "variable": "aws:SourceArn", "values": [TOPIC_ARN]}]
    assert queue["kms_master_key_id"].endswith("key/m") and queue["message_retention_seconds"] == DEAD_LETTER_RETENTION_SECONDS
    assert json.loads(queue["redrive_allow_policy"])["sourceQueueArns"] == [expected_arn.replace("fraud-q-dlq-test", "fraud-q-test")]


def test_a_queue_without_a_sender_admits_no_service_and_only_refuses_plain_http(bare_stack):
    stack, synth = bare_stack
    dead_letter_queue(stack, "dead-letters", name="fraud-q-dlq-test", context=AwsContext(stack, "context"), messaging_key_arn="arn:aws:kms:us-east-1:111122223333:key/m")
    config = synth()
    (document,) = config["data"]["aws_iam_policy_document"].values()
    assert [statement["sid"] for statement in document["statement"]] == ["DenyInsecureTransport"]
    (queue,) = config["resource"]["aws_sqs_queue"].values()
    assert "redrive_allow_policy" not in queue
