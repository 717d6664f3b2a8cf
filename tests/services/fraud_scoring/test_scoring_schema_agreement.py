"""The JSON Schema (enforced by API Gateway) and the Python validator accept the same payloads."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, localcontext
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from fraud_scoring import ValidationError, parse_json_body, parse_transaction
from fraud_scoring.currencies import MINOR_UNITS, codes_with_minor_units
from fraud_scoring.validation import MAX_AMOUNT

# Numbers as exact decimals, as API Gateway's validator reads them (Java BigDecimal): with floats,
# multipleOf 0.01 would refuse 0.07 (0.07 / 0.01 = 7.000000000000001).
SCHEMA = json.loads(
    resources.files("fraud_scoring").joinpath("transaction.schema.json").read_text(), parse_float=Decimal
)
VALIDATOR = Draft4Validator(SCHEMA)
VALID_PAYLOAD = {
    "transaction_id": "t1",
    "user_id": "u1",
    "amount": 1,
    "currency": "EUR",
    "merchant_id": "m1",
    "country": "DE",
}


@dataclass(frozen=True)
class RawNumber:
    """A number literal to put into the JSON text as written."""

    text: str


def json_text(payload: Any) -> str:
    """The request body: like json.dumps, with every RawNumber written as its literal."""
    literals: list[str] = []

    def placeholder(value: Any) -> Any:
        if isinstance(value, RawNumber):
            literals.append(value.text)
            return f"@@{len(literals) - 1}@@"
        raise TypeError(type(value).__name__)

    text = json.dumps(payload, default=placeholder)
    for index, literal in enumerate(literals):
        text = text.replace(f'"@@{index}@@"', literal)
    return text


def gateway_accepts(body: str) -> bool:
    # Enough precision that multipleOf's remainder is exact for every generated amount.
    with localcontext(prec=100):
        return VALIDATOR.is_valid(json.loads(body, parse_float=Decimal))


def python_accepts(body: str) -> bool:
    try:
        parse_transaction(parse_json_body(body))
    except ValidationError:
        return False
    return True


def test_the_schema_knows_every_currency_and_its_minor_units() -> None:
    assert SCHEMA["properties"]["currency"]["enum"] == sorted(MINOR_UNITS)
    by_step = {
        branch["properties"]["amount"]["multipleOf"]: branch["properties"]["currency"]["enum"] for branch in SCHEMA["anyOf"]
    }
    assert by_step == {Decimal(1).scaleb(-units) if units else 1: codes_with_minor_units(units) for units in (0, 2, 3, 4)}
    assert SCHEMA["properties"]["amount"]["maximum"] == MAX_AMOUNT


def test_the_schema_is_valid_self_contained_draft_04() -> None:
    Draft4Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"
    text = resources.files("fraud_scoring").joinpath("transaction.schema.json").read_text()
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
            "XYZ",
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
any_value = st.one_of(
    any_text,
    st.integers(min_value=-10, max_value=10**13),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
)


@st.composite
def number_literals(draw: st.DrawFn) -> RawNumber:
    """A JSON number as a client may write it: integer, decimal or exponent notation, any sign.

    Exponents stay within two digits: beyond that the services refuse the text unread, which a
    schema cannot express (test_what_only_the_services_see).
    """
    sign = draw(st.sampled_from(["", "", "", "", "", "-"]))
    whole = draw(
        st.one_of(
            st.from_regex(r"[1-9][0-9]{0,5}", fullmatch=True), st.from_regex(r"[1-9][0-9]{6,8}", fullmatch=True), st.just("0")
        )
    )
    fraction = draw(
        st.one_of(
            st.just(""),
            st.text("0123456789", min_size=1, max_size=2).map(lambda f: "." + f),
            st.text("0123456789", min_size=1, max_size=6).map(lambda f: "." + f),
        )
    )
    exponent = draw(
        st.one_of(
            st.just(""),
            st.just(""),
            st.tuples(st.sampled_from("eE"), st.sampled_from(["", "+", "-"]), st.integers(0, 12).map(str)).map("".join),
        )
    )
    return RawNumber(f"{sign}{whole}{fraction}{exponent}")


# Currencies of every minor unit (the rare ones as often as the rest); the wrong ones come from
# the occasional `any_value`.
currencies = st.one_of(st.sampled_from(sorted(MINOR_UNITS)), st.sampled_from(["JPY", "KWD", "CLF", "EUR", "BHD", "UYW"]))

# Mostly valid values with an occasional wrong one, so both outcomes are well covered.
VALID_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "transaction_id": valid_ids,
    "user_id": valid_ids,
    "amount": number_literals(),
    "currency": currencies,
    "merchant_id": st.text(alphabet="ab1_.:-", min_size=1, max_size=64),
    "country": st.from_regex(r"[A-Z]{2}", fullmatch=True),
    "merchant_category": st.from_regex(r"[0-9]{4}", fullmatch=True),
    # Mostly in range; sometimes any integer, or a number the schema's "integer" must refuse.
    "timestamp": st.one_of(*[st.integers(min_value=0, max_value=253_402_300_799_999)] * 4, st.integers(), number_literals()),
    "card_fingerprint": st.text(alphabet="aZ09+/=_-", min_size=1, max_size=128),
}


# Hypothesis favours the first choice and small numbers, so the common case comes first.
FIELD_ROLLS = st.sampled_from(["valid"] * 92 + ["missing"] * 3 + ["wrong"] * 5)


@st.composite
def payloads(draw: st.DrawFn) -> Any:
    if draw(st.sampled_from(["object"] * 30 + ["anything"])) == "anything":
        return draw(any_value)
    payload = {}
    for name, valid in VALID_VALUES.items():
        roll = draw(FIELD_ROLLS)
        if roll != "missing":
            payload[name] = draw(valid) if roll == "valid" else draw(any_value)
    if draw(st.sampled_from(["known"] * 19 + ["extra"])) == "extra":
        payload[draw(st.text(max_size=8))] = draw(any_value)
    return payload


def _without_trailing_newlines(payload: Any) -> bool:
    # Python's "$" (used by jsonschema) also matches before a final "\n"; the Python validator
    # refuses such values on purpose (test_a_trailing_newline_is_refused_by_python_only).
    return not (isinstance(payload, dict) and any(isinstance(v, str) and v.endswith("\n") for v in payload.values()))


@settings(max_examples=600, deadline=None)
@given(payloads().filter(_without_trailing_newlines))
def test_schema_and_python_validation_agree(payload: Any) -> None:
    body = json_text(payload)
    assert gateway_accepts(body) == python_accepts(body), body


# Written forms of valid amounts the gateway accepts and the services refuse, from the text alone.
ONLY_THE_SERVICES_SEE = {
    "33 characters": "1." + "0" * 31,
    "a 35-digit integer": "1" + "0" * 34 + "e-34",
}


@pytest.mark.parametrize("case", list(ONLY_THE_SERVICES_SEE))
def test_what_only_the_services_see(case: str) -> None:
    body = json_text({**VALID_PAYLOAD, "amount": RawNumber(ONLY_THE_SERVICES_SEE[case])})
    assert gateway_accepts(body) and not python_accepts(body)


@pytest.mark.parametrize("field", ["transaction_id", "user_id", "merchant_id", "country"])
def test_a_trailing_newline_is_refused_by_python_only(field: str) -> None:
    payload = {**VALID_PAYLOAD, field: VALID_PAYLOAD[field] + "\n"}
    assert gateway_accepts(json_text(payload)) and not python_accepts(json_text(payload))
