"""A customer-managed KMS key whose policy names every AWS service allowed to use it."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from components.aws_context import AwsContext
from components.compliance import skip_check

# What a service needs to encrypt and decrypt with the key on a caller's behalf.
ENVELOPE_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")


@dataclass(frozen=True)
class KeyGrant:
    """A service principal allowed to use the key, narrowed by conditions where AWS supports them."""

    sid: str
    service_principal: str
    actions: tuple[str, ...] = ENVELOPE_ACTIONS
    # (test, variable, values) triples, e.g. ("StringEquals", "aws:SourceAccount", [account]).
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = field(default_factory=tuple)


class CustomerManagedKey(Construct):
    """A rotating CMK with an alias; account administrators manage it, grantees use it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alias: str,
        description: str,
        deletion_window_days: int,
        context: AwsContext,
        grants: list[KeyGrant],
    ) -> None:
        super().__init__(scope, construct_id)
        statements = [
            # Without this the key can become unmanageable; IAM policies then decide who may
            # administer it, which is how AWS's default key policy works.
            DataAwsIamPolicyDocumentStatement(
                sid="AccountAdministration",
                actions=["kms:*"],
                resources=["*"],
                principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=[context.account_root_arn])],
            ),
            *(
                DataAwsIamPolicyDocumentStatement(
                    sid=grant.sid,
                    actions=list(grant.actions),
                    # In a key policy "*" means this key.
                    resources=["*"],
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[grant.service_principal])
                    ],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(test=test, variable=variable, values=list(values))
                        for test, variable, values in grant.conditions
                    ]
                    or None,
                )
                for grant in grants
            ),
        ]
        policy = DataAwsIamPolicyDocument(self, "policy", statement=statements)
        for check_id in ("CKV_AWS_109", "CKV_AWS_111", "CKV_AWS_356"):
            skip_check(
                policy,
                check_id,
                "a key policy's Resource '*' is this key only; the account-root statement is AWS's default that keeps "
                "the key manageable and delegates access to IAM policies",
            )
        self.key = KmsKey(
            self,
            "key",
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=deletion_window_days,
            policy=policy.json,
        )
        KmsAlias(self, "alias", name=f"alias/{alias}", target_key_id=self.key.key_id)
        self.arn = self.key.arn
