"""Helpers behind the services test fixtures: moto-backed AWS resources shaped like the real ones.

Handler modules create their boto3 clients when imported (at collection), and a client keeps
the region and credentials it was created with. So fake ones are put in the environment before
any handler is imported, and moto is imported before any client exists, which routes every
client to moto's in-memory backends while a mock is active. `restore_environment` puts the
original values back once collection is over, so other test suites in the same run (say, ones
that talk to a local AWS emulator) do not inherit the fakes.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any

import pytest

from tests.fake_aws import FAKE_AWS_ENVIRONMENT

_ORIGINAL_ENVIRONMENT = {name: os.environ.get(name) for name in FAKE_AWS_ENVIRONMENT}
os.environ.update(FAKE_AWS_ENVIRONMENT)


def restore_environment() -> None:
    for name, value in _ORIGINAL_ENVIRONMENT.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


import boto3  # noqa: E402
import moto  # noqa: E402,F401  (before any client exists: see the module docstring)

from fraud_scoring import ScoringConfig  # noqa: E402

REGION = "us-east-1"
TABLE_NAME = "transactions-test"
USER_INDEX_NAME = "user_id-timestamp-index"
TIME_WINDOW_INDEX_NAME = "time_bucket-timestamp-index"
SCORING_PARAMETER_NAME = "/fraud/test/scoring-config"
# What each index must project for the functions to work (the infra's INCLUDE lists).
USER_INDEX_ATTRIBUTES = ["amount", "country", "merchant_id"]
TIME_WINDOW_INDEX_ATTRIBUTES = ["user_id", "amount", "merchant_id", "decision"]


@functools.cache
def client(service: str) -> Any:
    """One client per service for the whole run, from a session of our own.

    moto resets boto3's default session whenever a mock starts; building clients from it in every
    test would reload the endpoint and service models each time (most of a test's setup time).
    Clients made here still reach moto's backends of whichever mock is active.
    """
    return _SESSION.client(service)


_SESSION = boto3.session.Session(region_name=REGION)


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class AlertsTopic:
    """An SNS topic with an SQS queue subscribed, to read published alerts back."""

    topic_arn: str
    queue_url: str

    def read_alerts(self) -> list[dict[str, Any]]:
        """Drain the queue; each alert as {"message": <decoded JSON>, "attributes": {name: value}}."""
        sqs = client("sqs")
        alerts = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return alerts
            for message in batch:
                envelope = json.loads(message["Body"])
                alerts.append(
                    {
                        "message": json.loads(envelope["Message"]),
                        "attributes": {
                            name: attr["Value"] for name, attr in envelope.get("MessageAttributes", {}).items()
                        },
                    }
                )
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


def create_transactions_table(name: str = TABLE_NAME) -> str:
    """The transactions table with the keys, indexes and TTL the data stack declares."""
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "transaction_id", "AttributeType": "S"},
            {"AttributeName": "timestamp", "AttributeType": "N"},
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "time_bucket", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "transaction_id", "KeyType": "HASH"},
            {"AttributeName": "timestamp", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": USER_INDEX_NAME,
                "KeySchema": [
                    {"AttributeName": "user_id", "KeyType": "HASH"},
                    {"AttributeName": "timestamp", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": USER_INDEX_ATTRIBUTES},
            },
            {
                "IndexName": TIME_WINDOW_INDEX_NAME,
                "KeySchema": [
                    {"AttributeName": "time_bucket", "KeyType": "HASH"},
                    {"AttributeName": "timestamp", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": TIME_WINDOW_INDEX_ATTRIBUTES},
            },
        ],
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    return name


def put_scoring_parameter(config: ScoringConfig | dict[str, Any], name: str = SCORING_PARAMETER_NAME) -> str:
    mapping = config.to_mapping() if isinstance(config, ScoringConfig) else config
    client("ssm").put_parameter(Name=name, Value=json.dumps(mapping), Type="SecureString", Overwrite=True)
    return name


def create_alerts_topic(name: str = "fraud-alerts-test") -> AlertsTopic:
    sns = client("sns")
    sqs = client("sqs")
    topic_arn = sns.create_topic(Name=name)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return AlertsTopic(topic_arn=topic_arn, queue_url=queue_url)


def api_gateway_event(
    body: Any, *, raw: bool = False, base64_encoded: bool = False, path: str = "/transactions"
) -> dict[str, Any]:
    """A REST API proxy event for POST `path`; `raw` sends `body` as-is instead of JSON-encoding it."""
    return {
        "resource": path,
        "path": path,
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "requestContext": {"requestId": "test-request", "stage": "test"},
        "body": body if raw else json.dumps(body),
        "isBase64Encoded": base64_encoded,
    }


def table_items(table_name: str = TABLE_NAME) -> list[dict[str, Any]]:
    """Every item in the table (a Scan: fine for asserting on a test table, never in the functions)."""
    dynamodb = client("dynamodb")
    pages = dynamodb.get_paginator("scan").paginate(TableName=table_name)
    return [item for page in pages for item in page["Items"]]


def scheduled_event(at: datetime) -> dict[str, Any]:
    """An EventBridge scheduled event fired at `at` (UTC)."""
    return {
        "version": "0",
        "id": "test-event",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/pattern-analyzer-test"],
        "detail": {},
    }


def write_items(items: list[dict[str, Any]], table_name: str = TABLE_NAME) -> None:
    """Batch-write items in DynamoDB wire format (test seeding; the functions write one by one)."""
    dynamodb = client("dynamodb")
    for start in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        unprocessed = dynamodb.batch_write_item(RequestItems={table_name: requests}).get("UnprocessedItems")
        assert not unprocessed, "moto does not throttle; anything unprocessed is a seeding bug"


def function_environment(
    monkeypatch: pytest.MonkeyPatch, pipeline_env: AlertsTopic, handler: ModuleType, variables: dict[str, str]
) -> Iterator[AlertsTopic]:
    """A pipeline function's own `variables` on top of what every pipeline function gets
    (`pipeline_env`), as the compute stack sets them, with the handler's config cache fresh before
    and after (a fixture body: `yield from` it)."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    handler.scoring_config.invalidate()
    yield pipeline_env
    handler.scoring_config.invalidate()
