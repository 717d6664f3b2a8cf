"""The environment's three customer-managed keys, one per kind of data, each admitting only its services.

Why three (docs/data.md has the long form): a key is the unit of access, audit and blast radius.
Stored data (Aurora, DynamoDB, secrets, SecureString parameters, Lambda environments) is what an
attacker wants; messages (SNS/SQS) and logs are read by other principals (CloudWatch alarms and
EventBridge publish to topics, CloudWatch Logs encrypts for every log group). Keeping those
services out of the storage key's policy means a mistake in a topic or log grant can never
decrypt the card data.
"""

from __future__ import annotations

from dataclasses import dataclass

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
from components.naming import ResourceNamer
from components.security.kms_key import KeyGrant

# What a service needs to encrypt and decrypt with the key on a caller's behalf.
CALLER_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")
# What a service principal needs to publish into an encrypted topic or queue.
PUBLISH_ACTIONS = ("kms:GenerateDataKey*", "kms:Decrypt")
# CloudWatch Logs' own list (it never needs kms:CreateGrant).
LOGS_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")


@dataclass(frozen=True)
class CallerAccess:
    """IAM principals of this account using the key only through `via_services` (e.g. `rds`).

    RDS, DynamoDB, Secrets Manager, SSM, Lambda, SNS and SQS act on a caller's behalf: the caller's
    identity reaches KMS, so the key policy admits the account's principals with `kms:CallerAccount`
    and `kms:ViaService`; the principal's own IAM policy still has to allow the key.
    """

    sid: str
    via_services: tuple[str, ...]


class ServiceKey(Construct):
    """A rotating CMK with an alias, administered by the account, used by the named services only."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alias: str,
        description: str,
        deletion_window_days: int,
        context: AwsContext,
        service_grants: list[KeyGrant],
        caller_access: CallerAccess | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        account = [DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=[context.account_root_arn])]

        def condition(test: str, variable: str, values: list[str]) -> DataAwsIamPolicyDocumentStatementCondition:
            return DataAwsIamPolicyDocumentStatementCondition(test=test, variable=variable, values=values)

        statements = [
            # Without this the key can become unmanageable; IAM policies then decide who may
            # administer it, as in AWS's default key policy. "*" in a key policy means this key.
            DataAwsIamPolicyDocumentStatement(
                sid="AccountAdministration", actions=["kms:*"], resources=["*"], principals=account
            ),
        ]
        if caller_access:
            via = [f"{service}.{context.region}.amazonaws.com" for service in caller_access.via_services]
            from_this_account = condition("StringEquals", "kms:CallerAccount", [context.account_id])
            statements += [
                DataAwsIamPolicyDocumentStatement(
                    sid=caller_access.sid,
                    actions=list(CALLER_ACTIONS),
                    resources=["*"],
                    principals=account,
                    condition=[from_this_account, condition("StringEquals", "kms:ViaService", via)],
                ),
                # RDS, DynamoDB and Lambda keep using the key through grants; only for AWS resources.
                DataAwsIamPolicyDocumentStatement(
                    sid=f"{caller_access.sid}Grants",
                    actions=["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                    resources=["*"],
                    principals=account,
                    condition=[
                        from_this_account,
                        condition("StringEquals", "kms:ViaService", via),
                        condition("Bool", "kms:GrantIsForAWSResource", ["true"]),
                    ],
                ),
            ]
        statements += [
            DataAwsIamPolicyDocumentStatement(
                sid=grant.sid,
                actions=list(grant.actions),
                resources=["*"],
                principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[grant.service_principal])],
                condition=[condition(test, variable, list(values)) for test, variable, values in grant.conditions] or None,
            )
            for grant in service_grants
        ]
        self.policy = DataAwsIamPolicyDocument(self, "policy", statement=statements)
        for check_id in ("CKV_AWS_109", "CKV_AWS_111", "CKV_AWS_356"):
            skip_check(
                self.policy,
                check_id,
                "a key policy's Resource '*' is this key only; the account-root statement is AWS's default that keeps "
                "the key manageable, and every other statement is narrowed by service, account and source conditions",
            )
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


class DataKeys(Construct):
    """`storage`, `messaging` and `logs` keys of one environment."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        context: AwsContext,
        deletion_window_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        from_this_account = ("StringEquals", "aws:SourceAccount", (context.account_id,))

        def from_resources_of(service: str, resource: str) -> tuple[str, str, tuple[str, ...]]:
            return ("ArnLike", "aws:SourceArn", (context.arn(service, resource),))

        self.storage = ServiceKey(
            self,
            "storage",
            alias=naming.name("storage"),
            description="Encrypts stored data: Aurora, DynamoDB, secrets, SecureString parameters, Lambda environments",
            deletion_window_days=deletion_window_days,
            context=context,
            service_grants=[],
            caller_access=CallerAccess(
                sid="StoredDataServices",
                via_services=("rds", "dynamodb", "secretsmanager", "ssm", "lambda"),
            ),
        )
        self.messaging = ServiceKey(
            self,
            "messaging",
            alias=naming.name("messaging"),
            description="Encrypts SNS topics and SQS queues",
            deletion_window_days=deletion_window_days,
            context=context,
            # Publishers and consumers (Lambdas, ECS tasks) reach the key through SNS and SQS.
            caller_access=CallerAccess(sid="MessagingServices", via_services=("sns", "sqs")),
            service_grants=[
                # SNS delivering into encrypted SQS queues of this account.
                KeyGrant(
                    sid="SnsDelivery",
                    service_principal="sns.amazonaws.com",
                    actions=PUBLISH_ACTIONS,
                    conditions=(from_this_account, from_resources_of("sns", "*")),
                ),
                # CloudWatch alarm actions publishing to encrypted topics.
                KeyGrant(
                    sid="CloudWatchAlarms",
                    service_principal="cloudwatch.amazonaws.com",
                    actions=PUBLISH_ACTIONS,
                    conditions=(from_this_account, from_resources_of("cloudwatch", "alarm:*")),
                ),
                # EventBridge rules targeting encrypted topics or queues.
                KeyGrant(
                    sid="EventBridgeRules",
                    service_principal="events.amazonaws.com",
                    actions=PUBLISH_ACTIONS,
                    conditions=(from_this_account, from_resources_of("events", "rule/*")),
                ),
            ],
        )
        self.logs = ServiceKey(
            self,
            "logs",
            alias=naming.name("logs"),
            description="Encrypts CloudWatch Logs log groups",
            deletion_window_days=deletion_window_days,
            context=context,
            service_grants=[
                # CloudWatch Logs names the log group in the encryption context: only groups of
                # this account and region may use the key.
                KeyGrant(
                    sid="CloudWatchLogs",
                    service_principal=f"logs.{context.region}.amazonaws.com",
                    actions=LOGS_ACTIONS,
                    conditions=(("ArnLike", "kms:EncryptionContext:aws:logs:arn", (context.arn("logs", "log-group:*"),)),),
                ),
            ],
        )
