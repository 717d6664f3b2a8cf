"""The JSON Schema (enforced by API Gateway) and the Python validator accept the same payloads."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from fraud_scoring import ValidationError, parse_transaction

SCHEMA = json.loads(resources.files("fraud_scoring").joinpath("transaction.schema.json").read_text())
VALIDATOR = Draft4Validator(SCHEMA)


def python_accepts(payload: Any) -> bool:
    try:
        parse_transaction(payload)
    except ValidationError:
        return False
    return True


def test_the_schema_is_valid_self_contained_draft_04() -> None:
    Draft4Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"
    text = json.dumps(SCHEMA)
    assert "$ref" not in text and '"format"' not in text, "API Gateway models must not depend on references or formats"
    assert SCHEMA["additionalProperties"] is False
    assert sorted(SCHEMA["required"]) == sorted(
        ["transaction_id", "user_id", "amount", "currency", "merchant_id", "country"]
    )


def test_the_schema_patterns_are_portable() -> None:
    # API Gateway evaluates patterns with Java's regex engine: stick to ASCII classes and anchors.
    for name, field in SCHEMA["properties"].items():
        if "pattern" in field:
            assert re.fullmatch(r"\^[\[\]A-Za-z0-9_.:+/=\-{},]+\$", field["pattern"]), name


valid_ids = st.text(alphabet="abcXYZ019_-", min_size=1, max_size=64)
any_text = st.one_of(
    valid_ids,
    st.text(max_size=70),
    st.sampled_from(
        [
            "",
            "EUR",
            "eur",
            "EU",
            "DE",
            "de",
            "5411",
            "541",
            "'; DROP TABLE t; --",
            "<script>",
            "a" * 65,
            "a" * 129,
            "x:y.z",
        ]
    ),
)
any_number = st.one_of(
    st.integers(min_value=-10, max_value=10**13),
    st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal(-5), max_value=Decimal("1000000.5"), places=3),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-5, max_value=2e6),
    st.sampled_from([0, 1_000_000, Decimal("1000000.00"), Decimal("1000000.001"), Decimal("0.001")]),
)
any_value = st.one_of(
    any_text,
    any_number,
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
)

# Mostly valid values with an occasional wrong one, so both outcomes are well covered.
VALID_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "transaction_id": valid_ids,
    "user_id": valid_ids,
    "amount": st.one_of(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1_000_000), places=2),
        st.integers(min_value=1, max_value=1_000_000),
        st.floats(min_value=0.001, max_value=1_000_000),
    ),
    "currency": st.from_regex(r"[A-Z]{3}", fullmatch=True),
    "merchant_id": st.text(alphabet="ab1_.:-", min_size=1, max_size=64),
    "country": st.from_regex(r"[A-Z]{2}", fullmatch=True),
    "merchant_category": st.from_regex(r"[0-9]{4}", fullmatch=True),
    "timestamp": st.integers(min_value=0, max_value=253_402_300_799_999),
    "card_fingerprint": st.text(alphabet="aZ09+/=_-", min_size=1, max_size=128),
}


@st.composite
def payloads(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 30)) == 0:
        return draw(any_value)
    payload = {}
    for name, valid in VALID_VALUES.items():
        roll = draw(st.integers(0, 99))
        if roll < 3:
            continue  # missing
        payload[name] = draw(any_value) if roll < 8 else draw(valid)
    if draw(st.integers(0, 19)) == 0:
        payload[draw(st.text(max_size=8))] = draw(any_value)
    return payload


def _without_trailing_newlines(payload: Any) -> bool:
    # Python's "$" (used by jsonschema) also matches before a final "\n"; the Python validator
    # refuses such values on purpose (test_a_trailing_newline_is_refused_by_python_only).
    return not (isinstance(payload, dict) and any(isinstance(v, str) and v.endswith("\n") for v in payload.values()))


@settings(max_examples=600, deadline=None)
@given(payloads().filter(_without_trailing_newlines))
def test_schema_and_python_validation_agree(payload: Any) -> None:
    assert VALIDATOR.is_valid(payload) == python_accepts(payload), payload


@pytest.mark.parametrize("field", ["transaction_id", "user_id", "merchant_id", "currency", "country"])
def test_a_trailing_newline_is_refused_by_python_only(field: str) -> None:
    payload = {
        "transaction_id": "t1",
        "user_id": "u1",
        "amount": 1,
        "currency": "EUR",
        "merchant_id": "m1",
        "country": "DE",
    }
    payload[field] += "\n"
    assert not python_accepts(payload)
