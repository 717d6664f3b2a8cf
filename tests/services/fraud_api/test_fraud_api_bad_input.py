"""Bad requests are refused with a reason a client can act on, and nothing is stored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.services.fraud_api.app_database import AppDatabase
from tests.services.fraud_api.inprocess import InProcessClient
from tests.services.payloads import transaction

JSON = {"content-type": "application/json"}
INJECTION = "'; DROP TABLE transactions; --"
XSS = "<script>alert(1)</script>"


def _json(payload: Any) -> tuple[bytes, dict[str, str]]:
    return json.dumps(payload).encode(), JSON


BAD_REQUESTS: dict[str, tuple[bytes, dict[str, str], int]] = {
    "missing transaction_id": (*_json(transaction(transaction_id=...)), 400),
    "missing every field": (*_json({}), 400),
    "amount as string": (*_json(transaction(amount="42.50")), 400),
    "amount as boolean": (*_json(transaction(amount=True)), 400),
    "user_id as number": (*_json(transaction(user_id=12345)), 400),
    "timestamp as float": (*_json(transaction(timestamp=1.5)), 400),
    "null currency": (*_json(transaction(currency=None)), 400),
    "negative amount": (*_json(transaction(amount=-10)), 400),
    "zero amount": (*_json(transaction(amount=0)), 400),
    "absurd amount": (*_json(transaction(amount=1e300)), 400),
    "amount just over the cap": (*_json(transaction(amount=1_000_000.01)), 400),
    "lower-case currency": (*_json(transaction(currency="eur")), 400),
    "three-letter country": (*_json(transaction(country="DEU")), 400),
    "sql injection in transaction_id": (*_json(transaction(transaction_id=INJECTION)), 400),
    "sql injection in user_id": (*_json(transaction(user_id=INJECTION)), 400),
    "script in merchant_id": (*_json(transaction(merchant_id=XSS)), 400),
    "script as a field name": (*_json({**transaction(), XSS: 1}), 400),
    "extra field": (*_json({**transaction(), "cvv": "123"}), 400),
    "array instead of object": (*_json([transaction()]), 400),
    "NaN amount": (json.dumps(transaction()).replace("42.5", "NaN").encode(), JSON, 400),
    "duplicate key": (b'{"amount": 1, "amount": 2}', JSON, 400),
    "non-JSON body": (b"transaction_id=abc&amount=10", JSON, 400),
    "truncated JSON": (json.dumps(transaction()).encode()[:-5], JSON, 400),
    "not UTF-8": (b'{"transaction_id": "\xff\xfe"}', JSON, 400),
    "empty body": (b"", JSON, 400),
    "whitespace body": (b"   \n", JSON, 400),
    "oversized body": (json.dumps({**transaction(), "pad": "x" * 20_000}).encode(), JSON, 413),
    "form content type": (*_json(transaction())[:1], {"content-type": "application/x-www-form-urlencoded"}, 415),
    "text content type": (*_json(transaction())[:1], {"content-type": "text/plain"}, 415),
    "no content type": (*_json(transaction())[:1], {}, 415),
    "latin-1 charset": (*_json(transaction())[:1], {"content-type": "application/json; charset=latin-1"}, 415),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_bad_request_is_refused_with_reasons_and_stores_nothing(
    case: str, client: InProcessClient, shared_database: AppDatabase
) -> None:
    body, headers, expected_status = BAD_REQUESTS[case]
    rows_before = shared_database.count_transactions()

    response = client.post("/api/v1/score", content=body, headers=headers)

    assert response.status_code == expected_status
    errors = response.json()["errors"]
    assert errors and all(isinstance(reason, str) and reason for reason in errors)
    assert shared_database.count_transactions() == rows_before


def test_reasons_name_every_bad_field(client: InProcessClient) -> None:
    response = client.post("/api/v1/score", json=transaction(amount=-1, currency="euro", country=...))

    fields = {reason.split(":")[0] for reason in response.json()["errors"]}
    assert fields == {"amount", "currency", "country"}


def test_hostile_strings_are_not_echoed(client: InProcessClient) -> None:
    response = client.post("/api/v1/score", json={**transaction(merchant_id=XSS), XSS: 1})

    assert "<script>" not in response.text


def test_a_chunked_body_over_the_cap_is_refused_without_buffering_it(client: InProcessClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the cap must hold while streaming
        for _ in range(40):
            yield b"x" * 1024

    response = client.post("/api/v1/score", content=chunks(), headers=JSON)

    assert response.status_code == 413

