"""Policy statements the platform writes again and again, written once."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)


def deny_insecure_transport(*, actions: list[str], resources: list[str]) -> DataAwsIamPolicyDocumentStatement:
    """Refuse any request not made over TLS (PCI DSS: encrypt cardholder data in transit)."""
    return DataAwsIamPolicyDocumentStatement(
        sid="DenyInsecureTransport",
        effect="Deny",
        actions=actions,
        resources=resources,
        principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])],
        condition=[DataAwsIamPolicyDocumentStatementCondition(test="Bool", variable="aws:SecureTransport", values=["false"])],
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
        principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[service_principal])],
        condition=[DataAwsIamPolicyDocumentStatementCondition(test="ArnEquals", variable="aws:SourceArn", values=[source_arn])],
    )
