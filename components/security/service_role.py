"""The platform's IAM roles: one trust-policy builder, and one role construct every role is made with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from components.security.policy_statements import Condition, conditions, principals


@dataclass(frozen=True)
class TrustConditions:
    """Confused-deputy guards on the trust policy, for services that send these keys.

    `source_arn_pattern` is matched with ArnLike (it may end in `*`).
    """

    source_account: str
    source_arn_pattern: str | None = None

    @property
    def conditions(self) -> tuple[Condition, ...]:
        account: Condition = ("StringEquals", "aws:SourceAccount", [self.source_account])
        if self.source_arn_pattern:
            return (account, ("ArnLike", "aws:SourceArn", [self.source_arn_pattern]))
        return (account,)


def trust_policy(
    scope: Construct,
    construct_id: str,
    *,
    service_principal: str,
    trust: TrustConditions | None,
    sid: str | None = None,
    effect: str | None = "Allow",
) -> DataAwsIamPolicyDocument:
    """A trust policy letting only `service_principal` assume the role, guarded by `trust`.

    `trust=None` only for services that do not document `aws:SourceAccount`/`aws:SourceArn` for
    role assumption: a condition the service never sends would make the role unusable, without
    any error at deploy time. `effect=None` leaves the effect to the document's default (Allow).
    """
    return DataAwsIamPolicyDocument(
        scope,
        construct_id,
        statement=[
            DataAwsIamPolicyDocumentStatement(
                sid=sid,
                effect=effect,
                actions=["sts:AssumeRole"],
                principals=principals("Service", service_principal),
                condition=conditions(*(trust.conditions if trust else ())),
            )
        ],
    )


class ServiceRole(Construct):
    """A role trusted only by `service_principal`, with exactly the inline `statements` it needs.

    Children: the trust document `trust`, the role `role` and, with statements, the document
    `permissions` and the inline policy `policy` (named like the role). A construct that is a
    role with a little more (ApiGatewayLoggingRole) subclasses it.
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
        assume = trust_policy(self, "trust", service_principal=service_principal, trust=trust)
        self.role = IamRole(self, "role", name=name, description=description, assume_role_policy=assume.json)
        self.arn = self.role.arn
        self.name = self.role.name
        self.policy: IamRolePolicy | None = None
        if statements:
            self.policy_document = DataAwsIamPolicyDocument(self, "permissions", statement=list(statements))
            self.policy = IamRolePolicy(self, "policy", name=name, role=self.role.id, policy=self.policy_document.json)
        for index, policy_arn in enumerate(managed_policy_arns):
            IamRolePolicyAttachment(self, f"managed-{index}", role=self.role.name, policy_arn=policy_arn)
