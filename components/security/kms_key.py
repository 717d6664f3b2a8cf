"""The platform's one customer-managed KMS key construct: a rotating key with an alias whose policy
names every AWS service, and every way of the account's own principals, allowed to use it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
)
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from components.aws_context import AwsContext
from components.compliance import skip_check
from components.security.policy_statements import Condition, conditions, principals

# What a service needs to encrypt and decrypt with the key on a caller's behalf.
ENVELOPE_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")
# What the account's principals may do through the services named in CallerAccess.
CALLER_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")
# What a service principal needs to publish into an encrypted topic or queue.
PUBLISH_ACTIONS = ("kms:GenerateDataKey*", "kms:Decrypt")
# CloudWatch Logs' own list (it never needs kms:CreateGrant).
LOGS_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")
# Condition keys that tie a service's use of the key to the resource it acts for.
_SOURCE_VARIABLES = ("aws:SourceArn", "kms:EncryptionContext:")


@dataclass(frozen=True)
class KeyGrant:
    """A service principal allowed to use the key, narrowed by conditions where AWS supports them."""

    sid: str
    service_principal: str
    actions: tuple[str, ...] = ENVELOPE_ACTIONS
    # (test, variable, values) triples, e.g. ("StringEquals", "aws:SourceAccount", [account]).
    conditions: tuple[Condition, ...] = field(default_factory=tuple)

    @property
    def names_its_source(self) -> bool:
        return any(variable.startswith(_SOURCE_VARIABLES) for _, variable, _ in self.conditions)


@dataclass(frozen=True)
class CallerAccess:
    """IAM principals of this account using the key only through `via_services` (e.g. `rds`).

    RDS, DynamoDB, Secrets Manager, SSM, Lambda, SNS and SQS act on a caller's behalf: the caller's
    identity reaches KMS, so the key policy admits the account's principals with `kms:CallerAccount`
    and `kms:ViaService`; the principal's own IAM policy still has to allow the key.
    """

    sid: str
    via_services: tuple[str, ...]


class CustomerManagedKey(Construct):
    """A rotating CMK with an alias, administered by the account, used by the named services only.

    Without `service_grants` and `caller_access` the account's IAM policies alone decide who uses
    it, as with AWS's default key policy.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alias: str,
        description: str,
        deletion_window_days: int,
        context: AwsContext,
        service_grants: Sequence[KeyGrant] = (),
        caller_access: CallerAccess | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        account = principals("AWS", context.account_root_arn)
        statements = [
            # Without this the key can become unmanageable; IAM policies then decide who may
            # administer it, as in AWS's default key policy. "*" in a key policy means this key.
            DataAwsIamPolicyDocumentStatement(
                sid="AccountAdministration", actions=["kms:*"], resources=["*"], principals=account
            ),
        ]
        if caller_access:
            via = ("StringEquals", "kms:ViaService", [f"{service}.{context.region}.amazonaws.com" for service in caller_access.via_services])
            from_this_account = ("StringEquals", "kms:CallerAccount", [context.account_id])
            statements += [
                DataAwsIamPolicyDocumentStatement(
                    sid=caller_access.sid,
                    actions=list(CALLER_ACTIONS),
                    resources=["*"],
                    principals=account,
                    condition=conditions(from_this_account, via),
                ),
                # RDS, DynamoDB and Lambda keep using the key through grants; only for AWS resources.
                DataAwsIamPolicyDocumentStatement(
                    sid=f"{caller_access.sid}Grants",
                    actions=["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                    resources=["*"],
                    principals=account,
                    condition=conditions(from_this_account, via, ("Bool", "kms:GrantIsForAWSResource", ["true"])),
                ),
            ]
        statements += [
            DataAwsIamPolicyDocumentStatement(
                sid=grant.sid,
                actions=list(grant.actions),
                resources=["*"],
                principals=principals("Service", grant.service_principal),
                condition=conditions(*grant.conditions),
            )
            for grant in service_grants
        ]
        self.policy = DataAwsIamPolicyDocument(self, "policy", statement=statements)
        for check_id in ("CKV_AWS_109", "CKV_AWS_111", "CKV_AWS_356"):
            skip_check(self.policy, check_id, _why_a_wildcard_is_safe(service_grants, caller_access))
        self.key = KmsKey(
            self,
            "key",
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=deletion_window_days,
            policy=self.policy.json,
        )
        self.alias = KmsAlias(self, "alias", name=f"alias/{alias}", target_key_id=self.key.key_id)
        self.arn = self.key.arn


def _why_a_wildcard_is_safe(service_grants: Sequence[KeyGrant], caller_access: CallerAccess | None) -> str:
    """The scanner exception's reason, claiming narrowing only where every other statement has it."""
    reason = "a key policy's Resource '*' is this key only; the account-root statement is AWS's default that keeps the key manageable"
    # Caller access is always narrowed by account and service; a grant, by its source only if it names one.
    others_narrowed = [*([True] if caller_access else []), *(grant.names_its_source for grant in service_grants)]
    if others_narrowed and all(others_narrowed):
        return f"{reason}, and every other statement is narrowed by service, account and source conditions"
    return f"{reason} and delegates access to IAM policies"
