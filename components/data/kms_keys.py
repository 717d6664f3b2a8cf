"""The environment's three customer-managed keys, one per kind of data, each admitting only its services.

Why three (docs/data.md has the long form): a key is the unit of access, audit and blast radius.
Stored data (Aurora, DynamoDB, secrets, SecureString parameters, Lambda environments) is what an
attacker wants; messages (SNS/SQS) and logs are read by other principals (CloudWatch alarms and
EventBridge publish to topics, CloudWatch Logs encrypts for every log group). Keeping those
services out of the storage key's policy means a mistake in a topic or log grant can never
decrypt the card data.
"""

from __future__ import annotations

from constructs import Construct

from components.aws_context import AwsContext
from components.naming import ResourceNamer
from components.security.kms_key import LOGS_ACTIONS, PUBLISH_ACTIONS, CallerAccess, CustomerManagedKey, KeyGrant


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

        def key(purpose: str, description: str, *, service_grants: list[KeyGrant], caller_access: CallerAccess | None) -> CustomerManagedKey:
            return CustomerManagedKey(
                self,
                purpose,
                alias=naming.name(purpose),
                description=description,
                deletion_window_days=deletion_window_days,
                context=context,
                service_grants=service_grants,
                caller_access=caller_access,
            )

        def publisher(sid: str, service: str, source_resources: str) -> KeyGrant:
            """`service` publishing into encrypted topics or queues for its resources of this account."""
            return KeyGrant(
                sid=sid,
                service_principal=f"{service}.amazonaws.com",
                actions=PUBLISH_ACTIONS,
                conditions=(
                    ("StringEquals", "aws:SourceAccount", (context.account_id,)),
                    ("ArnLike", "aws:SourceArn", (context.arn(service, source_resources),)),
                ),
            )

        self.storage = key(
            "storage",
            "Encrypts stored data: Aurora, DynamoDB, secrets, SecureString parameters, Lambda environments",
            service_grants=[],
            caller_access=CallerAccess(
                sid="StoredDataServices",
                via_services=("rds", "dynamodb", "secretsmanager", "ssm", "lambda"),
            ),
        )
        self.messaging = key(
            "messaging",
            "Encrypts SNS topics and SQS queues",
            service_grants=[
                # SNS delivering into encrypted SQS queues of this account.
                publisher("SnsDelivery", "sns", "*"),
                # CloudWatch alarm actions publishing to encrypted topics.
                publisher("CloudWatchAlarms", "cloudwatch", "alarm:*"),
                # EventBridge rules targeting encrypted topics or queues.
                publisher("EventBridgeRules", "events", "rule/*"),
            ],
            # Publishers and consumers (Lambdas, ECS tasks) reach the key through SNS and SQS.
            caller_access=CallerAccess(sid="MessagingServices", via_services=("sns", "sqs")),
        )
        self.logs = key(
            "logs",
            "Encrypts CloudWatch Logs log groups",
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
            caller_access=None,
        )
