from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from fraud_scoring import Transaction, ValidationError, parse_json_body, parse_transaction

VALID: dict[str, Any] = {
    "transaction_id": "txn_01-A",
    "user_id": "user-1",
    "amount": Decimal("12.34"),
    "currency": "EUR",
    "merchant_id": "acq:merchant.42",
    "country": "DE",
}


def reasons_for(payload: Any) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        parse_transaction(payload)
    return refused.value.reasons


def test_a_minimal_transaction() -> None:
    assert parse_transaction(VALID) == Transaction(
        "txn_01-A", "user-1", Decimal("12.34"), "EUR", "acq:merchant.42", "DE"
    )


def test_all_optional_fields() -> None:
    full = {**VALID, "merchant_category": "5411", "timestamp": 1_714_564_800_000, "card_fingerprint": "aGVsbG8+/w=="}
    txn = parse_transaction(full)
    assert (txn.merchant_category, txn.timestamp, txn.card_fingerprint) == ("5411", 1_714_564_800_000, "aGVsbG8+/w==")
    assert txn.to_dict() == {**full, "amount": "12.34"}


def test_amounts_stay_exact() -> None:
    assert parse_transaction(parse_json_body(json.dumps({**VALID, "amount": 0.1}))).amount == Decimal("0.1")
    assert parse_transaction({**VALID, "amount": 0.1}).amount == Decimal("0.1")
    assert parse_transaction({**VALID, "amount": 7}).amount == Decimal(7)


def test_every_problem_is_reported_with_its_field() -> None:
    reasons = reasons_for({"transaction_id": "", "amount": "12", "currency": "euro", "extra": 1})
    assert reasons == [
        "extra: unknown field; allowed fields are amount, card_fingerprint, country, currency,"
        " merchant_category, merchant_id, timestamp, transaction_id, user_id",
        "user_id: is required",
        "merchant_id: is required",
        "country: is required",
        "transaction_id: must be 1-64 characters from A-Z a-z 0-9 _ -",
        "amount: must be a number, got string",
        "currency: must be an ISO 4217 code of 3 upper-case letters, e.g. EUR",
    ]


@pytest.mark.parametrize(
    "amount", [0, -1, Decimal("-0.01"), Decimal("1000000.01"), 10**12, float("inf"), float("nan"), Decimal("NaN")]
)
def test_out_of_range_amounts(amount: Any) -> None:
    assert reasons_for({**VALID, "amount": amount})[0].startswith("amount: must be")


def test_a_trailing_newline_does_not_slip_past_a_pattern() -> None:
    assert reasons_for({**VALID, "user_id": "user-1\n"}) == ["user_id: must be 1-64 characters from A-Z a-z 0-9 _ -"]


@pytest.mark.parametrize(
    "raw, reason",
    [
        (None, "body: a JSON object is required, the request body is empty"),
        ("", "body: a JSON object is required, the request body is empty"),
        (b" \n", "body: a JSON object is required, the request body is empty"),
        ("{", "body: is not valid JSON"),
        (b"\xff\xfe", "body: must be UTF-8 encoded JSON"),
        ('{"a": NaN}', "body: NaN is not a valid JSON number"),
        ('{"a": -Infinity}', "body: -Infinity is not a valid JSON number"),
        ('{"amount": 1, "amount": 2}', "amount: appears more than once in the body"),
        ("[" * 100_000 + "]" * 100_000, "body: must be at most 16384 bytes, got 200000"),
        ("[" * 5_000 + "]" * 5_000, "body: is not valid JSON"),
    ],
)
def test_bodies_that_are_not_acceptable_json(raw: Any, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_json_body(raw)
    assert refused.value.reasons == [reason]


def test_the_size_limit_is_configurable() -> None:
    with pytest.raises(ValidationError, match="at most 10 bytes"):
        parse_json_body('{"a": "bcdefghijk"}', max_bytes=10)


def test_a_validation_error_needs_a_reason() -> None:
    with pytest.raises(ValueError):
        ValidationError([])
