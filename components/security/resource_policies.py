"""Topic and queue policies: TLS only, and only the senders they name.

`topic_policy` adds two children to `scope`: the policy document `<construct_id>-document` and the
policy `<construct_id>` itself; `queue_policy_document` only the document, which the queue carries.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
)
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from constructs import Construct

from components.security.policy_statements import allow_account_principals_on_topic, deny_insecure_transport


def topic_policy(
    scope: Construct,
    construct_id: str,
    *,
    topic_arn: str,
    account_root_arn: str,
    publishers: Sequence[DataAwsIamPolicyDocumentStatement] = (),
) -> SnsTopicPolicy:
    """AWS's default topic access for the account, the service `publishers`, and TLS only."""
    document = _document(
        scope,
        construct_id,
        allow_account_principals_on_topic(topic_arn=topic_arn, account_root_arn=account_root_arn),
        *publishers,
        deny_insecure_transport(actions=["sns:Publish"], resources=[topic_arn]),
    )
    return SnsTopicPolicy(scope, construct_id, arn=topic_arn, policy=document.json)


def queue_policy_document(
    scope: Construct,
    construct_id: str,
    *,
    queue_arn: str,
    senders: Sequence[DataAwsIamPolicyDocumentStatement] = (),
) -> DataAwsIamPolicyDocument:
    """A queue's policy (set with the queue: components/compute/queues.py): the service `senders`,
    and TLS only."""
    return _document(scope, construct_id, *senders, deny_insecure_transport(actions=["sqs:*"], resources=[queue_arn]))


def _document(scope: Construct, policy_id: str, *statements: DataAwsIamPolicyDocumentStatement) -> DataAwsIamPolicyDocument:
    return DataAwsIamPolicyDocument(scope, f"{policy_id}-document", statement=list(statements))
