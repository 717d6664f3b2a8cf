"""An IAM role one AWS service assumes, with exactly the inline statements it needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct


@dataclass(frozen=True)
class TrustConditions:
    """Confused-deputy guards on the trust policy, for services that send these keys.

    `source_arn_pattern` is matched with ArnLike (it may end in `*`).
    """

    source_account: str
    source_arn_pattern: str | None = None


def allow(sid: str, actions: Sequence[str], resources: Sequence[str], *conditions: tuple[str, str, Sequence[str]]) -> DataAwsIamPolicyDocumentStatement:
    """An Allow statement; conditions are (test, variable, values) triples."""
    return DataAwsIamPolicyDocumentStatement(
        sid=sid,
        effect="Allow",
        actions=list(actions),
        resources=list(resources),
        condition=[
            DataAwsIamPolicyDocumentStatementCondition(test=test, variable=variable, values=list(values))
            for test, variable, values in conditions
        ]
        or None,
    )


class ServiceRole(Construct):
    """A role trusted only by `service_principal`.

    `trust` adds `aws:SourceAccount`/`aws:SourceArn` conditions; pass None only for services
    that do not document those keys for role assumption (a condition the service never sends
    would make the role unusable without any error at deploy time).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        description: str,
        service_principal: str,
        trust: TrustConditions | None,
        statements: Sequence[DataAwsIamPolicyDocumentStatement] = (),
        managed_policy_arns: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        conditions = []
        if trust is not None:
            conditions.append(
                DataAwsIamPolicyDocumentStatementCondition(
                    test="StringEquals", variable="aws:SourceAccount", values=[trust.source_account]
                )
            )
            if trust.source_arn_pattern:
                conditions.append(
                    DataAwsIamPolicyDocumentStatementCondition(
                        test="ArnLike", variable="aws:SourceArn", values=[trust.source_arn_pattern]
                    )
                )
        assume = DataAwsIamPolicyDocument(
            self,
            "trust",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    effect="Allow",
                    actions=["sts:AssumeRole"],
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[service_principal])],
                    condition=conditions or None,
                )
            ],
        )
        self.role = IamRole(self, "role", name=name, description=description, assume_role_policy=assume.json)
        self.arn = self.role.arn
        self.name = self.role.name
        if statements:
            self.policy_document = DataAwsIamPolicyDocument(self, "permissions", statement=list(statements))
            IamRolePolicy(self, "policy", name=name, role=self.role.id, policy=self.policy_document.json)
        for index, policy_arn in enumerate(managed_policy_arns):
            IamRolePolicyAttachment(self, f"managed-{index}", role=self.role.name, policy_arn=policy_arn)
