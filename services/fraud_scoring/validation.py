"""The transaction contract both entry points enforce, in plain Python.

`transaction.schema.json` is what API Gateway enforces at the edge; this module enforces the
same rules where the edge may be bypassed (the container API, direct Lambda invocations) and
produces reasons a client can act on, each naming its field.
`tests/services/fraud_scoring/test_scoring_schema_agreement.py` checks that both accept and
reject the same payloads. What the schema cannot see is enforced here only: the written form of
a number (below) and the timestamp window (`fraud_scoring.timestamps`, it needs the clock).

Amounts (services/README.md, "The transaction contract"): a JSON number greater than 0 and at
most 1,000,000, with at most as many decimals as the currency has minor units (EUR 2, JPY 0,
KWD 3, CLF 4; trailing zeros do not count), so at most 7 + 4 significant digits. Exponent
notation is only another way of writing such a number (`4.25e1` is 42.5); a number literal
longer than 32 characters or with an exponent of more than two digits is refused from its text
alone, before it is converted, so no amount costs more than its 32 characters to reject (an
exponent of minus a billion once expanded to a billion characters). Accepted amounts are
returned at the currency's scale (EUR `42.5` becomes `42.50`), so every store keeps one form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fraud_scoring.currencies import MAX_MINOR_UNITS, MINOR_UNITS
from fraud_scoring.transaction import Transaction

DEFAULT_MAX_BODY_BYTES = 16_384
MAX_AMOUNT = Decimal(1_000_000)
# The leading digit of an amount at most MAX_AMOUNT is at most this power of ten.
_MAX_AMOUNT_MAGNITUDE = MAX_AMOUNT.adjusted()
# A number's text is refused unread beyond these: generous for any plain amount or timestamp.
MAX_NUMBER_CHARACTERS = 32
MAX_EXPONENT_DIGITS = 2
MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant datetime can format

# fullmatch (not re.match with "$"), so a trailing newline is rejected rather than ignored.
_ID = re.compile(r"[A-Za-z0-9_-]+")
_MERCHANT_ID = re.compile(r"[A-Za-z0-9_.:-]+")
_CURRENCY = re.compile(r"[A-Z]{3}")
# Public: the scoring config lists countries and categories in the same form (fraud_scoring.config).
COUNTRY_CODE = re.compile(r"[A-Z]{2}")
MERCHANT_CATEGORY_CODE = re.compile(r"[0-9]{4}")
_FINGERPRINT = re.compile(r"[A-Za-z0-9+/=_-]+")
_PRINTABLE_FIELD_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")


class ValidationError(ValueError):
    """The request cannot be accepted; `reasons` says, field by field, what to fix."""

    def __init__(self, reasons: list[str]) -> None:
        if not reasons:
            raise ValueError("ValidationError needs at least one reason")
        super().__init__("; ".join(reasons))
        self.reasons = list(reasons)


class _FieldProblem(Exception):
    """One field's problem; collected into ValidationError.reasons."""


@dataclass(frozen=True)
class _StringRule:
    pattern: re.Pattern[str]
    min_length: int
    max_length: int
    describes: str
    # When set, only these values (which all match the pattern) are accepted.
    one_of: Collection[str] | None = None

    def check(self, value: Any) -> str:
        if not isinstance(value, str):
            raise _FieldProblem(f"must be a string ({self.describes}), got {_json_type(value)}")
        if not self.min_length <= len(value) <= self.max_length or not self.pattern.fullmatch(value):
            raise _FieldProblem(f"must be {self.describes}")
        if self.one_of is not None and value not in self.one_of:
            raise _FieldProblem(f"must be {self.describes}")
        return value


@dataclass(frozen=True)
class OutsizedNumber:
    """A JSON number refused from its text alone: longer than MAX_NUMBER_CHARACTERS, or with an
    exponent of more than MAX_EXPONENT_DIGITS digits. Never converted, so never expensive."""

    written_as_integer: bool


_OUTSIZED_INTEGER = OutsizedNumber(written_as_integer=True)
_OUTSIZED_DECIMAL = OutsizedNumber(written_as_integer=False)


def _json_integer(text: str) -> int | OutsizedNumber:
    # int() of a long digit string is quadratic; nothing valid needs more than 32 characters.
    return int(text) if len(text) <= MAX_NUMBER_CHARACTERS else _OUTSIZED_INTEGER


def _json_decimal(text: str) -> Decimal | OutsizedNumber:
    if len(text) > MAX_NUMBER_CHARACTERS:
        return _OUTSIZED_DECIMAL
    _, _, exponent = text.lower().partition("e")
    if len(exponent.lstrip("+-").lstrip("0")) > MAX_EXPONENT_DIGITS:
        return _OUTSIZED_DECIMAL
    # The JSON grammar guarantees the shape; with a short exponent the conversion is cheap and exact.
    return Decimal(text)


_STRING_FIELDS: dict[str, _StringRule] = {
    "transaction_id": _StringRule(_ID, 1, 64, "1-64 characters from A-Z a-z 0-9 _ -"),
    "user_id": _StringRule(_ID, 1, 64, "1-64 characters from A-Z a-z 0-9 _ -"),
    "currency": _StringRule(
        _CURRENCY, 3, 3, "an active ISO 4217 currency code of 3 upper-case letters, e.g. EUR", one_of=MINOR_UNITS
    ),
    "merchant_id": _StringRule(_MERCHANT_ID, 1, 64, "1-64 characters from A-Z a-z 0-9 _ . : -"),
    "country": _StringRule(COUNTRY_CODE, 2, 2, "an ISO 3166-1 alpha-2 code of 2 upper-case letters, e.g. DE"),
    "merchant_category": _StringRule(MERCHANT_CATEGORY_CODE, 4, 4, "a 4-digit merchant category code (MCC), e.g. 5411"),
    "card_fingerprint": _StringRule(_FINGERPRINT, 1, 128, "1-128 characters from A-Z a-z 0-9 + / = _ -"),
}
REQUIRED_FIELDS = ("transaction_id", "user_id", "amount", "currency", "merchant_id", "country")
OPTIONAL_FIELDS = ("merchant_category", "timestamp", "card_fingerprint")
ALLOWED_FIELDS = frozenset(REQUIRED_FIELDS + OPTIONAL_FIELDS)


def parse_json_body(raw: str | bytes | None, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> Any:
    """Decode a request body as strict JSON.

    Numbers with a fraction or an exponent become Decimal (money stays exact); numbers whose
    text is too long or whose exponent is too large become OutsizedNumber without being
    converted; NaN/Infinity and duplicate keys are refused, because a parser that accepts them
    can disagree with the edge about what the client sent.
    """
    if raw is None:
        raise ValidationError(["body: a JSON object is required, the request body is empty"])
    encoded = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    if len(encoded) > max_bytes:
        raise ValidationError([f"body: must be at most {max_bytes} bytes, got {len(encoded)}"])
    if not encoded.strip():
        raise ValidationError(["body: a JSON object is required, the request body is empty"])
    try:
        text = encoded.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(["body: must be UTF-8 encoded JSON"]) from None
    try:
        return json.loads(
            text,
            parse_float=_json_decimal,
            parse_int=_json_integer,
            parse_constant=_refuse_constant,
            object_pairs_hook=_refuse_duplicate_keys,
        )
    except ValidationError:
        raise
    except (ValueError, RecursionError):
        raise ValidationError(["body: is not valid JSON"]) from None


def parse_transaction(payload: Any) -> Transaction:
    """Validate a decoded JSON payload and build a Transaction, collecting every problem at once."""
    if not isinstance(payload, dict):
        raise ValidationError([f"body: must be a JSON object, got {_json_type(payload)}"])

    reasons: list[str] = []
    for name in sorted(set(payload) - ALLOWED_FIELDS, key=str):
        allowed = ", ".join(sorted(ALLOWED_FIELDS))
        reasons.append(f"{_printable_field_name(name)}: unknown field; allowed fields are {allowed}")
    for name in REQUIRED_FIELDS:
        if name not in payload:
            reasons.append(f"{name}: is required")

    values: dict[str, Any] = {}
    for name, value in payload.items():
        if name in _STRING_FIELDS:
            _check(reasons, values, name, value, _STRING_FIELDS[name].check)
        elif name == "amount":
            _check(reasons, values, name, value, _amount)
        elif name == "timestamp":
            _check(reasons, values, name, value, _timestamp)
    if "amount" in values and "currency" in values:
        _check(reasons, values, "amount", values["amount"], lambda amount: _in_minor_units(amount, values["currency"]))

    if reasons:
        raise ValidationError(reasons)
    return Transaction(**values)


def _check(reasons: list[str], values: dict[str, Any], name: str, value: Any, convert: Callable[[Any], Any]) -> None:
    try:
        values[name] = convert(value)
    except _FieldProblem as problem:
        reasons.append(f"{name}: {problem}")


def _amount(value: Any) -> Decimal:
    """The checks that do not depend on the currency; nothing here grows with the exponent."""
    if isinstance(value, OutsizedNumber):
        raise _FieldProblem(
            f"must be a plain decimal number of at most {MAX_NUMBER_CHARACTERS} characters"
            f" (an exponent, if any, of at most {MAX_EXPONENT_DIGITS} digits)"
        )
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise _FieldProblem(f"must be a number, got {_json_type(value)}")
    if isinstance(value, int):
        if not 0 < value <= MAX_AMOUNT:
            raise _FieldProblem(f"must be greater than 0 and at most {MAX_AMOUNT}")
        return Decimal(value)
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same float: at most ~24 characters.
        value = Decimal(repr(value))
    if not value.is_finite():
        raise _FieldProblem("must be a finite number")
    # Sign, zero and the exponent of the leading digit are read, not computed; the one
    # comparison left is between numbers of the same magnitude, at most 1,000,000.
    magnitude = value.adjusted()
    if (
        value.is_signed()
        or value.is_zero()
        or magnitude > _MAX_AMOUNT_MAGNITUDE
        or (magnitude == _MAX_AMOUNT_MAGNITUDE and value > MAX_AMOUNT)
    ):
        raise _FieldProblem(f"must be greater than 0 and at most {MAX_AMOUNT}")
    places = decimal_places(value)
    if places > MAX_MINOR_UNITS:
        raise _FieldProblem(f"must have at most {MAX_MINOR_UNITS} decimal places (no currency has more), got {places}")
    return value


def _in_minor_units(amount: Decimal, currency: str) -> Decimal:
    """The amount at the currency's scale, if it has no more decimals than the currency's minor units."""
    minor_units = MINOR_UNITS[currency]
    places = decimal_places(amount)
    if places > minor_units:
        raise _FieldProblem(f"must have at most {minor_units} decimal places for {currency}, got {places}")
    # Safe: at most 7 integer digits and MAX_MINOR_UNITS decimals, far inside the context's precision.
    return amount.quantize(Decimal(1).scaleb(-minor_units))


def decimal_places(value: Decimal) -> int:
    """Decimals of a finite Decimal, not counting trailing zeros (`42.50` has 1), without arithmetic."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int), "finite Decimals have an integer exponent"
    trailing_zeros = 0
    for digit in reversed(digits):
        if digit:
            break
        trailing_zeros += 1
    return max(0, -(exponent + trailing_zeros))


def _timestamp(value: Any) -> int:
    if isinstance(value, OutsizedNumber) and value.written_as_integer:
        raise _FieldProblem(f"must be epoch milliseconds between 0 and {MAX_TIMESTAMP_MS}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _FieldProblem(f"must be an integer (epoch milliseconds), got {_json_type(value)}")
    if not 0 <= value <= MAX_TIMESTAMP_MS:
        raise _FieldProblem(f"must be epoch milliseconds between 0 and {MAX_TIMESTAMP_MS}")
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, (float, Decimal)):
        return "number"
    if isinstance(value, OutsizedNumber):
        return "integer" if value.written_as_integer else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _printable_field_name(name: Any) -> str:
    # Field names are attacker-controlled; only echo names that cannot carry markup or control characters.
    if isinstance(name, str) and _PRINTABLE_FIELD_NAME.fullmatch(name):
        return name
    return "<field name not shown>"


def _refuse_constant(name: str) -> Any:
    raise ValidationError([f"body: {name} is not a valid JSON number"])


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValidationError([f"{_printable_field_name(key)}: appears more than once in the body"])
        result[key] = value
    return result
