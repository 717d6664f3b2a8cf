from __future__ import annotations

import json
import tracemalloc
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


def test_amounts_stay_exact_at_the_currency_s_scale() -> None:
    assert str(parse_transaction(parse_json_body(json.dumps({**VALID, "amount": 0.1}))).amount) == "0.10"
    assert str(parse_transaction({**VALID, "amount": 0.1}).amount) == "0.10"
    assert str(parse_transaction({**VALID, "amount": 7}).amount) == "7.00"
    assert str(parse_transaction({**VALID, "amount": Decimal("7.00"), "currency": "JPY"}).amount) == "7"


def amount_of(literal: str, currency: str = "EUR") -> Decimal:
    body = json.dumps({**VALID, "amount": "AMOUNT", "currency": currency}).replace('"AMOUNT"', literal)
    return parse_transaction(parse_json_body(body)).amount


def amount_reasons(literal: str, currency: str = "EUR") -> list[str]:
    body = json.dumps({**VALID, "amount": "AMOUNT", "currency": currency}).replace('"AMOUNT"', literal)
    with pytest.raises(ValidationError) as refused:
        parse_transaction(parse_json_body(body))
    return refused.value.reasons


@pytest.mark.parametrize(
    "literal, currency, stored",
    [
        ("42.5", "EUR", "42.50"),
        ("42.50000", "EUR", "42.50"),  # trailing zeros are not decimals
        ("4.25e1", "EUR", "42.50"),  # exponent notation is just another way to write it
        ("1E+2", "EUR", "100.00"),
        ("1e-000000000000000000000002", "EUR", "0.01"),
        ("1000000", "EUR", "1000000.00"),
        ("1000000.00", "EUR", "1000000.00"),
        ("1e3", "JPY", "1000"),
        ("1500.0", "JPY", "1500"),
        ("12.345", "KWD", "12.345"),
        ("0.0001", "CLF", "0.0001"),
    ],
)
def test_accepted_amounts(literal: str, currency: str, stored: str) -> None:
    assert str(amount_of(literal, currency)) == stored


@pytest.mark.parametrize(
    "literal, currency, reason",
    [
        ("1.001", "EUR", "amount: must have at most 2 decimal places for EUR, got 3"),
        ("1.5", "JPY", "amount: must have at most 0 decimal places for JPY, got 1"),
        ("1.0001", "KWD", "amount: must have at most 3 decimal places for KWD, got 4"),
        ("0.00001", "CLF", "amount: must have at most 4 decimal places (no currency has more), got 5"),
        ("1e-99", "EUR", "amount: must have at most 4 decimal places (no currency has more), got 99"),
        ("1000000.01", "EUR", "amount: must be greater than 0 and at most 1000000"),
        ("1e7", "EUR", "amount: must be greater than 0 and at most 1000000"),
        ("12345678", "EUR", "amount: must be greater than 0 and at most 1000000"),
        ("-0.0", "EUR", "amount: must be greater than 0 and at most 1000000"),
        ("0e5", "EUR", "amount: must be greater than 0 and at most 1000000"),
        ("1e100", "EUR", "amount: must be a plain decimal number of at most 32 characters (an exponent, if any, of at most 2 digits)"),
        ("1e-1000000000", "EUR", "amount: must be a plain decimal number of at most 32 characters (an exponent, if any, of at most 2 digits)"),
        # Once an InvalidOperation out of the JSON parser: a 500.
        ("1e99999999999999999999999999", "EUR", "amount: must be a plain decimal number of at most 32 characters (an exponent, if any, of at most 2 digits)"),
        ("1" + "0" * 32, "EUR", "amount: must be a plain decimal number of at most 32 characters (an exponent, if any, of at most 2 digits)"),
        ("1." + "0" * 31, "EUR", "amount: must be a plain decimal number of at most 32 characters (an exponent, if any, of at most 2 digits)"),
    ],
)
def test_refused_amounts_name_the_rule(literal: str, currency: str, reason: str) -> None:
    assert amount_reasons(literal, currency) == [reason]


def test_an_unknown_currency_still_bounds_the_decimals() -> None:
    assert amount_reasons("1.00001", "XYZ") == [
        "amount: must have at most 4 decimal places (no currency has more), got 5",
        "currency: must be an active ISO 4217 currency code of 3 upper-case letters, e.g. EUR",
    ]


EXPONENTS = [sign + str(10**power) for power in range(0, 31) for sign in ("", "-", "+")]


@pytest.mark.parametrize("exponent", EXPONENTS)
def test_no_exponent_costs_more_than_its_characters(exponent: str) -> None:
    """The processor once expanded `1e-1000000000` to a billion characters; nothing may grow with it."""
    body = json.dumps({**VALID, "amount": "AMOUNT"}).replace('"AMOUNT"', f"1e{exponent}")
    tracemalloc.start()
    try:
        try:
            parse_transaction(parse_json_body(body))
        except ValidationError:
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024, f"1e{exponent}: {peak} bytes"


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
        "currency: must be an active ISO 4217 currency code of 3 upper-case letters, e.g. EUR",
    ]


@pytest.mark.parametrize(
    "amount",
    [0, -1, Decimal("-0.01"), Decimal("1000000.01"), 10**12, 10**50, float("inf"), float("nan"), Decimal("NaN"),
     Decimal("1e-999999999999999999"), Decimal("9e999999999999999999")],
)
def test_out_of_range_amounts(amount: Any) -> None:
    assert reasons_for({**VALID, "amount": amount})[0].startswith("amount: must ")


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
