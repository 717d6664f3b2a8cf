"""The transaction pipeline's two functions, each with exactly the permissions its code uses
(services/README.md lists them) and its own encrypted dead-letter queue."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from components.aws_context import AwsContext
from components.compliance import skip_check
from components.compute.queues import dead_letter_queue
from components.functions.python_function import FunctionPlacement, PythonFunction
from components.naming import ResourceNamer
from components.security.log_groups import explain_short_retention
from components.security.policy_statements import allow
from config.settings import ComputeSettings

# pattern_analyzer's finding markers share the table; their keys start with this
# (services/pattern_analyzer/alerts.py MARKER_PREFIX), so its writes can be held to them.
FINDING_MARKER_PREFIX = "finding#"


@dataclass(frozen=True)
class TransactionStore:
    table_name: str
    table_arn: str
    user_index_name: str
    time_window_index_name: str
    scoring_config_parameter_name: str
    scoring_config_parameter_arn: str


@dataclass(frozen=True)
class PipelineKeys:
    # Table, parameter and the functions' environments.
    storage_key_arn: str
    # Alerts topic and the dead-letter queues.
    messaging_key_arn: str
    logs_key_arn: str


class PipelineFunctions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        context: AwsContext,
        store: TransactionStore,
        keys: PipelineKeys,
        alerts_topic_arn: str,
        placement: FunctionPlacement,
        settings: ComputeSettings,
        transaction_ttl_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self._naming = naming
        self._context = context
        self._store = store
        self._keys = keys
        self._alerts_topic_arn = alerts_topic_arn
        self._placement = placement
        self._settings = settings
        self._dead_letter_queues: dict[str, SqsQueue] = {}

        table = store.table_arn
        self.transaction_processor = self._function(
            "transaction_processor",
            description="POST /transactions: validate, score, store once, alert",
            # API Gateway gives up after 29 s; a stuck call should fail well before that.
            timeout_seconds=10,
            memory_mb=1024,
            environment={
                "USER_INDEX_NAME": store.user_index_name,
                "TRANSACTION_TTL_DAYS": str(transaction_ttl_days),
            },
            statements=[
                # Query on the table is the idempotency look-up by transaction_id (any timestamp).
                allow("ReadTransactionsAndUserHistory", ["dynamodb:Query"], [table, f"{table}/index/{store.user_index_name}"]),
                allow("StoreTransactions", ["dynamodb:PutItem"], [table]),
            ],
        )
        self.pattern_analyzer = self._function(
            "pattern_analyzer",
            description="Every 5 minutes: analyse the recent window of transactions and alert on patterns",
            timeout_seconds=60,
            memory_mb=1024,
            environment={
                "TIME_WINDOW_INDEX_NAME": store.time_window_index_name,
                "ANALYSIS_WINDOW_MINUTES": str(settings.analysis_window_minutes),
            },
            statements=[
                allow("ReadTimeWindow", ["dynamodb:Query"], [f"{table}/index/{store.time_window_index_name}"]),
                # It writes only its own finding markers (claim, and release after a failed publish),
                # never a transaction.
                allow(
                    "ClaimFindingMarkers",
                    ["dynamodb:PutItem", "dynamodb:DeleteItem"],
                    [table],
                    ("ForAllValues:StringLike", "dynamodb:LeadingKeys", [f"{FINDING_MARKER_PREFIX}*"]),
                ),
            ],
        )
        self.functions = (self.transaction_processor, self.pattern_analyzer)
        self.dead_letter_queues = tuple(self._dead_letter_queues.values())

    def _function(
        self, function: str, *, description: str, timeout_seconds: int, memory_mb: int, environment: dict[str, str], statements: list
    ) -> PythonFunction:
        naming, context, store, keys, settings = self._naming, self._context, self._store, self._keys, self._settings
        # The failure records carry the whole event (a card transaction): like every other queue of
        # the platform, this one refuses plain-HTTP requests. Senders are granted by their roles.
        dead_letters = dead_letter_queue(
            self, f"{function}-dead-letters", name=naming.name(function, "dlq"), context=context, messaging_key_arn=keys.messaging_key_arn
        )
        self._dead_letter_queues[function] = dead_letters

        def via(*services: str) -> tuple[str, str, list[str]]:
            return ("StringEquals", "kms:ViaService", [f"{service}.{context.region}.amazonaws.com" for service in services])

        common = [
            allow("PublishAlerts", ["sns:Publish"], [self._alerts_topic_arn]),
            allow("ReadScoringConfig", ["ssm:GetParameter"], [store.scoring_config_parameter_arn]),
            allow("SendFailedInvocations", ["sqs:SendMessage"], [dead_letters.arn]),
            # The table and the SecureString parameter are encrypted with the storage key.
            allow("UseStorageKeyThroughDataServices", ["kms:Decrypt", "kms:GenerateDataKey"], [keys.storage_key_arn], via("dynamodb", "ssm")),
            # The alerts topic and the dead-letter queue are encrypted with the messaging key.
            allow("UseMessagingKeyThroughMessaging", ["kms:Decrypt", "kms:GenerateDataKey"], [keys.messaging_key_arn], via("sns", "sqs")),
        ]
        built = PythonFunction(
            self,
            function.replace("_", "-"),
            naming=naming,
            context=context,
            function=function,
            description=description,
            timeout_seconds=timeout_seconds,
            memory_mb=memory_mb,
            reserved_concurrency=settings.lambda_reserved_concurrency,
            environment={
                "TRANSACTIONS_TABLE_NAME": store.table_name,
                "ALERTS_TOPIC_ARN": self._alerts_topic_arn,
                "SCORING_CONFIG_PARAMETER": store.scoring_config_parameter_name,
                "TIME_BUCKET_SHARDS": str(settings.time_bucket_shards),
                **environment,
            },
            environment_key_arn=keys.storage_key_arn,
            logs_key_arn=keys.logs_key_arn,
            log_retention_days=settings.log_retention_days,
            placement=self._placement,
            policy_statements=[*statements, *common],
            # The record of a failed asynchronous invocation (the event, the error, the attempts)
            # lands in the function's own dead-letter queue.
            on_failure_destination_arn=dead_letters.arn,
        )
        explain_short_retention(built.log_group, settings.log_retention_days, "Lambda logs are kept 30 days (R6.9)")
        skip_check(
            built.function,
            "CKV_AWS_116",
            "failed asynchronous invocations go to the function's SQS dead-letter queue through an on-failure "
            "destination, the successor of the DLQ setting (it also records the error); both at once would "
            "deliver every failure twice",
        )
        return built
