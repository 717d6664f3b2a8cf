from __future__ import annotations

import base64
import json
import time
from decimal import Decimal
from typing import Any

import pytest

from fraud_scoring import ScoreResult, parse_transaction
from fraud_scoring.buckets import time_bucket
from tests.services import payloads
from tests.services.aws_fixtures import AlertsTopic, api_gateway_event, put_scoring_parameter, table_items, write_items
from transaction_processor import handler as processor
from transaction_processor.store import transaction_item


def now_ms() -> int:
    return int(time.time() * 1000)


def transaction(**overrides: Any) -> dict[str, Any]:
    """The shared valid transaction under this module's fixed ids; an override of None leaves that field out."""
    fields: dict[str, Any] = {"transaction_id": "txn-0001", "user_id": "user-1", **overrides}
    return payloads.transaction(**{name: ... if value is None else value for name, value in fields.items()})


def invoke(event: dict[str, Any], context: Any) -> tuple[int, dict[str, Any]]:
    response = processor.handler(event, context)
    return response["statusCode"], json.loads(response["body"])


def test_a_valid_transaction_is_scored_stored_and_answered_201(processor_env: AlertsTopic, lambda_context: Any) -> None:
    body = transaction()
    status, answer = invoke(api_gateway_event(body), lambda_context)

    assert status == 201
    assert set(answer) == {"transaction_id", "score", "decision", "reasons"}
    assert answer["transaction_id"] == "txn-0001"
    assert 0 <= answer["score"] <= 1
    [item] = table_items()
    assert item["transaction_id"] == {"S": "txn-0001"}
    assert item["timestamp"] == {"N": str(body["timestamp"])}
    assert Decimal(item["amount"]["N"]) == Decimal("42.5")
    assert item["time_bucket"]["S"] == time_bucket(body["timestamp"], "txn-0001", 4)
    assert int(item["expires_at"]["N"]) == body["timestamp"] // 1000 + 90 * 86_400
    assert [reason["S"] for reason in item["reasons"]["L"]] == answer["reasons"]
    assert item["decision"]["S"] == answer["decision"]


def test_the_server_stamps_a_transaction_sent_without_timestamp(
    processor_env: AlertsTopic, lambda_context: Any
) -> None:
    before = now_ms()
    status, _ = invoke(api_gateway_event(transaction(timestamp=None)), lambda_context)
    [item] = table_items()
    assert status == 201
    assert before <= int(item["timestamp"]["N"]) <= now_ms()


OVERSIZED = json.dumps(transaction(merchant_id="m" * 64) | {"padding": "x" * 20_000})

BAD_REQUESTS: dict[str, tuple[Any, bool]] = {
    # name: (body, raw) -- raw bodies are sent as-is, others JSON-encoded
    "empty body": (None, True),
    "blank body": ("   ", True),
    "not JSON": ("transaction_id=1&amount=2", True),
    "truncated JSON": ('{"transaction_id": "t1", "amount": ', True),
    "JSON array": ([transaction()], False),
    "JSON string": ("hello", False),
    "NaN amount": (
        '{"transaction_id":"t1","user_id":"u","amount":NaN,"currency":"EUR","merchant_id":"m","country":"DE"}',
        True,
    ),
    "duplicate key": (
        '{"transaction_id":"t1","user_id":"u","amount":1,"amount":2,"currency":"EUR","merchant_id":"m","country":"DE"}',
        True,
    ),
    "oversized body": (OVERSIZED, True),
    "missing transaction_id": (transaction(transaction_id=None), False),
    "missing amount": (transaction(amount=None), False),
    "missing everything": ({}, False),
    "amount as string": (transaction(amount="42.50"), False),
    "amount as boolean": (transaction(amount=True), False),
    "amount null": ({**transaction(), "amount": None}, False),
    "negative amount": (transaction(amount=-10), False),
    "zero amount": (transaction(amount=0), False),
    "absurd amount": (transaction(amount=1e12), False),
    "user_id as number": (transaction(user_id=12345), False),
    "lower-case currency": (transaction(currency="eur"), False),
    "country name": (transaction(country="Germany"), False),
    "MCC with letters": (transaction(merchant_category="54A1"), False),
    "timestamp as float": (transaction(timestamp=1.5), False),
    "timestamp as string": (transaction(timestamp="2024-01-01"), False),
    "timestamp far in the future": (transaction(timestamp=now_ms() + 3_600_000), False),
    "timestamp beyond retention": (transaction(timestamp=now_ms() - 91 * 86_400_000), False),
    "SQL injection in transaction_id": (transaction(transaction_id="1'; DROP TABLE transactions; --"), False),
    "SQL injection in merchant_id": (transaction(merchant_id="m' OR '1'='1"), False),
    "script in user_id": (transaction(user_id="<script>alert(1)</script>"), False),
    "script in card_fingerprint": (transaction(card_fingerprint="<script>"), False),
    "overlong transaction_id": (transaction(transaction_id="t" * 65), False),
    "extra field": (transaction(is_fraud=False), False),
    "extra field with markup name": ({**transaction(), "<img src=x>": 1}, False),
}


@pytest.mark.parametrize("body, raw", list(BAD_REQUESTS.values()), ids=list(BAD_REQUESTS))
def test_bad_requests_are_refused_with_reasons_and_nothing_is_written(
    processor_env: AlertsTopic, lambda_context: Any, body: Any, raw: bool
) -> None:
    event = api_gateway_event(body, raw=raw)
    status, answer = invoke(event, lambda_context)

    assert status == 400
    assert answer["reasons"], "every refusal names what to fix"
    assert all(":" in reason for reason in answer["reasons"])
    assert "<script>" not in json.dumps(answer) and "<img" not in json.dumps(answer)
    assert table_items() == []
    assert processor_env.read_alerts() == []


def test_a_base64_encoded_body_is_decoded(processor_env: AlertsTopic, lambda_context: Any) -> None:
    encoded = base64.b64encode(json.dumps(transaction()).encode()).decode()
    status, _ = invoke(api_gateway_event(encoded, raw=True, base64_encoded=True), lambda_context)
    assert status == 201


def test_invalid_base64_is_a_400(processor_env: AlertsTopic, lambda_context: Any) -> None:
    status, answer = invoke(api_gateway_event("not base64!!", raw=True, base64_encoded=True), lambda_context)
    assert status == 400 and answer["reasons"]


def test_a_retried_request_is_stored_once_and_answered_the_same(
    processor_env: AlertsTopic, lambda_context: Any
) -> None:
    event = api_gateway_event(transaction(amount=7_500))
    first_status, first = invoke(event, lambda_context)
    second_status, second = invoke(event, lambda_context)

    assert (first_status, second_status) == (201, 200)
    assert second == first
    assert len(table_items()) == 1


def test_a_retry_without_timestamp_is_not_stored_twice(processor_env: AlertsTopic, lambda_context: Any) -> None:
    event = api_gateway_event(transaction(timestamp=None))
    _, first = invoke(event, lambda_context)
    _, second = invoke(event, lambda_context)
    assert second == first
    assert len(table_items()) == 1


def test_a_reused_transaction_id_with_other_content_is_a_conflict(
    processor_env: AlertsTopic, lambda_context: Any
) -> None:
    at = now_ms()
    invoke(api_gateway_event(transaction(amount=10, timestamp=at)), lambda_context)
    [stored] = table_items()

    status, answer = invoke(api_gateway_event(transaction(amount=9_999, timestamp=at)), lambda_context)

    assert status == 409
    assert answer["reasons"] == ["transaction_id: already stored with a different amount; use a new transaction_id"]
    assert table_items() == [stored]


def test_a_late_retry_of_a_stored_transaction_still_gets_its_decision(
    processor_env: AlertsTopic, lambda_context: Any
) -> None:
    # Stored an hour ago, as the function would have stored it then.
    hour_ago = transaction(timestamp=now_ms() - 3_600_000)
    stored = transaction_item(
        parse_transaction(hour_ago), ScoreResult(0.25, "approve", ("first_transaction: stored",)), shards=4, ttl_days=90
    )
    write_items([stored])

    retry_status, retry = invoke(api_gateway_event(hour_ago), lambda_context)
    new_status, new = invoke(api_gateway_event({**hour_ago, "transaction_id": "txn-late"}), lambda_context)

    assert (retry_status, retry) == (
        200,
        {"transaction_id": "txn-0001", "score": 0.25, "decision": "approve", "reasons": ["first_transaction: stored"]},
    )
    assert new_status == 400 and new["reasons"][0].startswith("timestamp: must be within 5 minutes")
    assert table_items() == [stored]


def test_losing_the_conditional_write_race_replays_the_winner(
    processor_env: AlertsTopic, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = api_gateway_event(transaction())
    _, winner = invoke(event, lambda_context)
    # The second attempt does not see the first one when it looks, only when it writes.
    real_find = processor.TransactionStore.find
    lookups = iter([None])
    monkeypatch.setattr(
        processor.TransactionStore, "find", lambda self, tid: next(lookups, None) or real_find(self, tid)
    )

    status, answer = invoke(event, lambda_context)

    assert status == 200 and answer == winner
    assert len(table_items()) == 1


def test_a_declined_transaction_publishes_one_alert(processor_env: AlertsTopic, lambda_context: Any) -> None:
    # High amount, high-risk country and MCC, new user: well past the decline threshold.
    body = transaction(amount=60_000, country="KP", merchant_category="7995")
    status, answer = invoke(api_gateway_event(body), lambda_context)

    assert status == 201 and answer["decision"] == "decline"
    [alert] = processor_env.read_alerts()
    assert alert["attributes"]["decision"] == "decline"
    assert alert["attributes"]["severity"] == "high"
    assert alert["message"]["transaction_id"] == body["transaction_id"]
    assert alert["message"]["reasons"] == answer["reasons"]

    invoke(api_gateway_event(body), lambda_context)  # a replay does not alert again
    assert processor_env.read_alerts() == []


def test_an_approved_transaction_publishes_nothing(processor_env: AlertsTopic, lambda_context: Any) -> None:
    _, answer = invoke(api_gateway_event(transaction()), lambda_context)
    assert answer["decision"] == "approve"
    assert processor_env.read_alerts() == []


def test_the_users_history_feeds_velocity(processor_env: AlertsTopic, lambda_context: Any) -> None:
    start = now_ms() - 30_000
    answers = [
        invoke(api_gateway_event(transaction(transaction_id=f"txn-{i}", timestamp=start + i)), lambda_context)[1]
        for i in range(5)
    ]
    assert not any(reason.startswith("velocity_1m") for reason in answers[2]["reasons"])
    assert any(reason.startswith("velocity_1m: 4 transactions > 3") for reason in answers[3]["reasons"])


def test_the_scoring_config_is_read_from_ssm_once_per_container(
    processor_env: AlertsTopic, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    loads_before = processor.clients.scoring_config.loads
    real_get_parameter = processor.clients.ssm.get_parameter
    monkeypatch.setattr(
        processor.clients.ssm, "get_parameter", lambda **kwargs: calls.append(kwargs) or real_get_parameter(**kwargs)
    )

    for i in range(5):
        invoke(api_gateway_event(transaction(transaction_id=f"txn-{i}")), lambda_context)

    assert len(calls) == 1
    assert calls[0]["WithDecryption"] is True
    assert processor.clients.scoring_config.loads - loads_before == 1


def test_the_thresholds_come_from_the_parameter(processor_env: AlertsTopic, lambda_context: Any) -> None:
    put_scoring_parameter({"amount_tiers": [{"min_amount": 40, "weight": 0.9}]})
    _, answer = invoke(api_gateway_event(transaction(amount=42.5)), lambda_context)
    assert answer["decision"] == "decline"
    assert answer["reasons"][0].startswith("high_amount:")


def test_an_invalid_config_is_a_500_without_internals(processor_env: AlertsTopic, lambda_context: Any) -> None:
    put_scoring_parameter({"review_threshold": 0.9, "decline_threshold": 0.1})
    status, answer = invoke(api_gateway_event(transaction()), lambda_context)
    assert status == 500
    assert answer == {"message": "internal error", "request_id": lambda_context.aws_request_id}
    assert table_items() == []


def test_an_aws_failure_is_a_500_without_internals(
    processor_env: AlertsTopic, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRANSACTIONS_TABLE_NAME", "no-such-table")
    status, answer = invoke(api_gateway_event(transaction()), lambda_context)
    assert status == 500
    assert "no-such-table" not in json.dumps(answer) and "ResourceNotFound" not in json.dumps(answer)


def test_a_failed_alert_does_not_fail_the_stored_transaction(
    processor_env: AlertsTopic, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(**_: Any) -> None:
        raise ConnectionError("sns unavailable")

    monkeypatch.setattr(processor.clients.sns, "publish", unavailable)
    status, answer = invoke(api_gateway_event(transaction(amount=60_000, country="KP")), lambda_context)
    assert status == 201 and answer["decision"] in {"review", "decline"}
    assert len(table_items()) == 1
