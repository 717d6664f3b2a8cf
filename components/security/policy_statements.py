"""Policy statements the platform writes again and again, written once."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)

# (test, variable, values), e.g. ("StringEquals", "aws:SourceAccount", [account_id]).
Condition = tuple[str, str, Sequence[str]]

# What AWS's default topic policy lets the owning account's principals do.
TOPIC_OWNER_ACTIONS = ("sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic")


def conditions(*triples: Condition) -> list[DataAwsIamPolicyDocumentStatementCondition] | None:
    """A statement's conditions, or None (no `condition` block at all) when there are none."""
    return [
        DataAwsIamPolicyDocumentStatementCondition(test=test, variable=variable, values=list(values))
        for test, variable, values in triples
    ] or None


def principals(principal_type: str, *identifiers: str) -> list[DataAwsIamPolicyDocumentStatementPrincipals]:
    """One principals block: `principals("Service", "sns.amazonaws.com")`, `principals("AWS", root_arn)`."""
    return [DataAwsIamPolicyDocumentStatementPrincipals(type=principal_type, identifiers=list(identifiers))]


def allow(sid: str, actions: Sequence[str], resources: Sequence[str], *condition: Condition) -> DataAwsIamPolicyDocumentStatement:
    """An Allow statement of an identity policy (a role's own permissions)."""
    return DataAwsIamPolicyDocumentStatement(
        sid=sid, effect="Allow", actions=list(actions), resources=list(resources), condition=conditions(*condition)
    )


def deny_insecure_transport(*, actions: list[str], resources: list[str]) -> DataAwsIamPolicyDocumentStatement:
    """Refuse any request not made over TLS (PCI DSS: encrypt cardholder data in transit)."""
    return DataAwsIamPolicyDocumentStatement(
        sid="DenyInsecureTransport",
        effect="Deny",
        actions=actions,
        resources=resources,
        principals=principals("*", "*"),
        condition=conditions(("Bool", "aws:SecureTransport", ["false"])),
    )


def allow_service_from_source(
    *, sid: str, service_principal: str, actions: list[str], resources: list[str], source_arn: str
) -> DataAwsIamPolicyDocumentStatement:
    """Admit an AWS service only on behalf of one resource (guards against the confused deputy)."""
    return DataAwsIamPolicyDocumentStatement(
        sid=sid,
        effect="Allow",
        actions=actions,
        resources=resources,
        principals=principals("Service", service_principal),
        condition=conditions(("ArnEquals", "aws:SourceArn", [source_arn])),
    )


def allow_account_principals_on_topic(*, topic_arn: str, account_root_arn: str) -> DataAwsIamPolicyDocumentStatement:
    """What AWS's default topic policy grants: this account's principals, as far as their own IAM
    policies allow (nobody outside the account). A topic policy replaces that default, so a topic
    with a policy of its own states it again."""
    return DataAwsIamPolicyDocumentStatement(
        sid="AccountPrincipals",
        effect="Allow",
        actions=list(TOPIC_OWNER_ACTIONS),
        resources=[topic_arn],
        principals=principals("AWS", account_root_arn),
    )
