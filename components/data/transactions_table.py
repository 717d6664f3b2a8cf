"""The DynamoDB table of scored transactions, keyed for the two ways the functions read it.

The key, attribute and index names are fixed: the transaction processor and the pattern analyzer
query them by name (services/transaction_processor/store.py, services/pattern_analyzer/).
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTableGlobalSecondaryIndex,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
    DynamodbTableTtl,
)
from constructs import Construct

from components.naming import ResourceNamer

TRANSACTION_ID = "transaction_id"
TIMESTAMP = "timestamp"
USER_ID = "user_id"
TIME_BUCKET = "time_bucket"
EXPIRES_AT = "expires_at"
# A user's history for velocity and first-seen rules, newest first.
USER_INDEX_NAME = "user-timestamp-index"
# Transactions of one minute-bucket shard in time order: the pattern analyzer queries each shard
# of its window instead of scanning the table.
TIME_WINDOW_INDEX_NAME = "time-bucket-index"
# What each reader's ProjectionExpression asks of its index, and nothing more: the indexes are
# copies of the table, and every attribute left out (card fingerprint, reasons...) is one copy
# less of cardholder-related data to protect and pay for. A reader needing more changes these.
USER_INDEX_ATTRIBUTES = ("amount", "country", "merchant_id")
TIME_WINDOW_INDEX_ATTRIBUTES = ("user_id", "amount", "merchant_id", "decision")


class TransactionsTable(Construct):
    """On-demand, CMK-encrypted, point-in-time recoverable; items expire through `expires_at`.

    No stream: nothing consumes one (the analyzer reads the time-bucket index on a schedule), and
    an unread stream would only be a second 24-hour copy of card data to protect.
    """

    def __init__(self, scope: Construct, construct_id: str, *, naming: ResourceNamer, kms_key_arn: str) -> None:
        super().__init__(scope, construct_id)
        self.table = DynamodbTable(
            self,
            "table",
            name=naming.name("transactions"),
            billing_mode="PAY_PER_REQUEST",
            hash_key=TRANSACTION_ID,
            range_key=TIMESTAMP,
            attribute=[
                DynamodbTableAttribute(name=TRANSACTION_ID, type="S"),
                DynamodbTableAttribute(name=TIMESTAMP, type="N"),
                DynamodbTableAttribute(name=USER_ID, type="S"),
                DynamodbTableAttribute(name=TIME_BUCKET, type="S"),
            ],
            global_secondary_index=[
                DynamodbTableGlobalSecondaryIndex(
                    name=name, hash_key=partition_key, range_key=TIMESTAMP, projection_type="INCLUDE", non_key_attributes=list(attributes)
                )
                for name, partition_key, attributes in (
                    (USER_INDEX_NAME, USER_ID, USER_INDEX_ATTRIBUTES),
                    (TIME_WINDOW_INDEX_NAME, TIME_BUCKET, TIME_WINDOW_INDEX_ATTRIBUTES),
                )
            ],
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=kms_key_arn),
            ttl=DynamodbTableTtl(attribute_name=EXPIRES_AT, enabled=True),
            stream_enabled=False,
            # Every environment must tear down without manual steps (docs/requirements.md R8.2); PITR
            # keeps 35 days of restorable history while the table exists.
            deletion_protection_enabled=False,
        )
        self.name = self.table.name
        self.arn = self.table.arn
        self.user_index_name = USER_INDEX_NAME
        self.time_window_index_name = TIME_WINDOW_INDEX_NAME
