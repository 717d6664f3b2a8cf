"""Entry point `transaction_processor.handler.handler` (API Gateway REST proxy, POST /transactions).

Clients and the config cache live at module level, so a warm container reuses connections and
reads the SSM parameter once per TTL instead of once per request.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

from fraud_scoring import (
    TIMESTAMP_WINDOW,
    ReplayConflict,
    ScoreResult,
    Transaction,
    ValidationError,
    check_replay,
    parse_json_body,
    parse_transaction,
    score_transaction,
)
from fraud_scoring.parameter import cached_scoring_config
from transaction_processor.alerts import needs_alert, publish_transaction_alert
from transaction_processor.api_gateway import json_response, raw_body
from transaction_processor.settings import ProcessorSettings
from transaction_processor.store import TransactionStore, stored_result, stored_transaction, transaction_item

# Powertools Logger but not Tracer: aws-xray-sdk adds ~150 ms to every cold start (measured in
# services/README.md); the X-Ray segments come from the function's active tracing instead.
logger = Logger(service="transaction-processor")

# Tight timeouts: the API has a 200 ms p99 budget, so a stuck connection must fail fast and retry.
_AWS_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "max_attempts": 3})
dynamodb = boto3.client("dynamodb", config=_AWS_CONFIG)
sns = boto3.client("sns", config=_AWS_CONFIG)
ssm = boto3.client("ssm", config=_AWS_CONFIG)


scoring_config = cached_scoring_config(ssm, logger)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        txn = parse_transaction(parse_json_body(raw_body(event)))
        return _process(txn, ProcessorSettings.from_env(), now_ms=int(time.time() * 1000))
    except ValidationError as error:
        logger.info("transaction rejected", extra={"status": 400, "reasons": error.reasons})
        return json_response(400, {"message": "invalid transaction", "reasons": error.reasons})
    except ReplayConflict as conflict:
        logger.info("transaction rejected", extra={"status": 409, "reasons": conflict.reasons})
        return json_response(409, {"message": "transaction_id already used", "reasons": conflict.reasons})
    except Exception:
        logger.exception("transaction processing failed")
        return json_response(500, {"message": "internal error", "request_id": getattr(context, "aws_request_id", None)})


def _process(txn: Transaction, settings: ProcessorSettings, now_ms: int) -> dict[str, Any]:
    logger.append_keys(transaction_id=txn.transaction_id)
    store = TransactionStore(dynamodb, settings.table_name, settings.user_index_name)

    # The replay look-up comes first: a retry gets the stored decision however late it comes.
    existing = store.find(txn.transaction_id)
    if existing is not None:
        return _replay(existing, txn)

    txn = TIMESTAMP_WINDOW.stamp(txn, now_ms)
    config = scoring_config.get()
    history = store.user_history(txn, config.history)
    result = score_transaction(txn, history, config)
    item = transaction_item(txn, result, shards=settings.time_bucket_shards, ttl_days=settings.transaction_ttl_days)

    if not store.insert(item):
        # A concurrent attempt of the same request won the conditional write.
        raced = store.find(txn.transaction_id)
        if raced is None:
            raise RuntimeError("conditional write failed but no stored transaction was found")
        return _replay(raced, txn)

    logger.info(
        "transaction scored",
        extra={"decision": result.decision, "score": result.score, "reasons": list(result.reasons)},
    )
    if needs_alert(result):
        _alert(settings, txn, result)
    return json_response(201, stored_result(item).to_body())


def _replay(item: dict[str, Any], txn: Transaction) -> dict[str, Any]:
    check_replay(stored_transaction(item), txn)
    logger.info("replayed stored result")
    return json_response(200, stored_result(item).to_body(), headers={"Idempotent-Replayed": "true"})


def _alert(settings: ProcessorSettings, txn: Transaction, result: ScoreResult) -> None:
    # The transaction is stored and the client gets its decision either way; failing the
    # request now would only turn its retry into a replay that cannot re-send the alert.
    try:
        message_id = publish_transaction_alert(sns, settings.alerts_topic_arn, txn, result)
        logger.info("alert published", extra={"message_id": message_id})
    except Exception:
        logger.exception("alert publish failed", extra={"alert_lost": True})
