"""Topic and queue policies: the named senders only, TLS only, and AWS's default account access
on topics."""

from __future__ import annotations

from components.security.policy_statements import TOPIC_OWNER_ACTIONS, allow_service_from_source
from components.security.resource_policies import queue_policy_document, topic_policy

TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:fraud-alerts-test"
ROOT = "arn:aws:iam::111122223333:root"
QUEUE_ARN = "arn:aws:sqs:us-east-1:111122223333:fraud-q-test"


def _statements(config: dict, document_id_part: str) -> dict[str, dict]:
    (document,) = [body for name, body in config["data"]["aws_iam_policy_document"].items() if document_id_part in name]
    return {statement["sid"]: statement for statement in document["statement"]}


def test_topic_policy_keeps_the_account_default_and_refuses_plain_http(bare_stack):
    stack, synth = bare_stack
    publisher = allow_service_from_source(
        sid="Alarm", service_principal="cloudwatch.amazonaws.com", actions=["sns:Publish"], resources=[TOPIC_ARN], source_arn="arn:aws:cloudwatch:us-east-1:111122223333:alarm:x"
    )
    topic_policy(stack, "topic-policy", topic_arn=TOPIC_ARN, account_root_arn=ROOT, publishers=[publisher])
    config = synth()
    statements = _statements(config, "topic-policy-document")
    assert list(statements) == ["AccountPrincipals", "Alarm", "DenyInsecureTransport"]
    account = statements["AccountPrincipals"]
    assert account["principals"] == [{"type": "AWS", "identifiers": [ROOT]}]
    assert (tuple(account["actions"]), account["resources"], account["effect"]) == (TOPIC_OWNER_ACTIONS, [TOPIC_ARN], "Allow")
    assert "condition" not in account
    deny = statements["DenyInsecureTransport"]
    assert (deny["effect"], deny["actions"], deny["resources"]) == ("Deny", ["sns:Publish"], [TOPIC_ARN])
    (policy,) = config["resource"]["aws_sns_topic_policy"].values()
    assert policy["arn"] == TOPIC_ARN and "topic-policy-document" in policy["policy"]


def test_queue_policy_without_senders_only_refuses_plain_http(bare_stack):
    stack, synth = bare_stack
    queue_policy_document(stack, "queue-policy", queue_arn=QUEUE_ARN)
    statements = _statements(synth(), "queue-policy-document")
    assert list(statements) == ["DenyInsecureTransport"]
    deny = statements["DenyInsecureTransport"]
    assert deny["actions"] == ["sqs:*"] and deny["resources"] == [QUEUE_ARN]
    assert deny["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]


def test_queue_policy_admits_a_sender_only_from_its_source(bare_stack):
    stack, synth = bare_stack
    sender = allow_service_from_source(
        sid="TopicOnly", service_principal="sns.amazonaws.com", actions=["sqs:SendMessage"], resources=[QUEUE_ARN], source_arn=TOPIC_ARN
    )
    queue_policy_document(stack, "queue-policy", queue_arn=QUEUE_ARN, senders=[sender])
    statements = _statements(synth(), "queue-policy-document")
    assert list(statements) == ["TopicOnly", "DenyInsecureTransport"]
    assert statements["TopicOnly"]["condition"] == [{"test": "ArnEquals", "variable": "aws:SourceArn", "values": [TOPIC_ARN]}]
    assert statements["TopicOnly"]["principals"] == [{"type": "Service", "identifiers": ["sns.amazonaws.com"]}]
