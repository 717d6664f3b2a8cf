"""Hostile transactions against both entry points: one contract (fraud_scoring), one answer.

The transaction processor (on moto) and fraud-api (on the real PostgreSQL, as its application
role) get the same bodies: amounts in exponent notation of every size, with too many digits or
decimals, timestamps outside the window, replays with changed content. Every refusal is a 400
(or a 409 for a replay) whose reasons name the field, stores nothing, and allocates nothing that
grows with the input: the processor once expanded `1e-1000000000` into a billion characters. A
property test then throws generated hostile amounts and timestamps at both and holds them to an
independent statement of the rules (fractions, not the services' Decimal code).
"""

# The entry points' fixtures are imported and then requested by name: that is how pytest shares
# fixtures across directories, and what F811 would flag.
# ruff: noqa: F811
from __future__ import annotations

import json
import time
import tracemalloc
import uuid
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from fraud_scoring.currencies import MINOR_UNITS
from fraud_scoring.replays import COMPARED_FIELDS
from fraud_scoring.timestamps import TIMESTAMP_WINDOW
from tests.services.aws_fixtures import AlertsTopic
from tests.services.entry_points import Answer, EntryPoint, FraudApiEntryPoint, ProcessorEntryPoint
from tests.services.fraud_api.app_database import AppDatabase
from tests.services.fraud_api.conftest import client, postgres, shared_database  # noqa: F401
from tests.services.fraud_api.inprocess import InProcessClient
from tests.services.transaction_processor.conftest import processor_env  # noqa: F401

# Generous: a refusal allocates a few kilobytes; the defect it guards against allocated a gigabyte.
MAX_REFUSAL_ALLOCATION_BYTES = 4 * 1024 * 1024
MINUTE_MS = 60_000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def body(*, amount: str = "42.5", currency: str = "EUR", timestamp: str | None = "now", **fields: Any) -> bytes:
    """A transaction as text, amount and timestamp written as given ("now" is a second ago)."""
    payload = {
        "transaction_id": f"txn-{uuid.uuid4().hex[:20]}",
        "user_id": f"user-{uuid.uuid4().hex[:12]}",
        "amount": "@AMOUNT@",
        "currency": currency,
        "merchant_id": "merchant-1",
        "country": "DE",
        "merchant_category": "5411",
        **fields,
    }
    if timestamp is not None:
        payload["timestamp"] = "@TIMESTAMP@"
        timestamp = str(now_ms() - 1_000) if timestamp == "now" else timestamp
    text = json.dumps(payload).replace('"@AMOUNT@"', amount)
    return (text.replace('"@TIMESTAMP@"', timestamp) if timestamp is not None else text).encode()


def at(offset_ms: int) -> Callable[[], bytes]:
    return lambda: body(timestamp=str(now_ms() + offset_ms))


# name -> (a body built when the case runs, the field its refusal must name)
REFUSED: dict[str, tuple[Callable[[], bytes], str]] = {
    **{
        f"exponent {sign}{10**power}": ((lambda e=f"{sign}{10**power}": body(amount=f"1e{e}")), "amount")
        for power in range(1, 31)
        for sign in ("", "-")
    },
    "exponent beyond any integer type": (lambda: body(amount="1e99999999999999999999999999"), "amount"),
    "negative, exponent of minus a billion": (lambda: body(amount="-1e-1000000000"), "amount"),
    "mantissa and exponent both large": (lambda: body(amount="9.999999e999999999"), "amount"),
    "eight integer digits": (lambda: body(amount="12345678"), "amount"),
    "eight integer digits with decimals": (lambda: body(amount="1234567.5"), "amount"),
    "33 nines": (lambda: body(amount="9" * 33), "amount"),
    "5000 nines": (lambda: body(amount="9" * 5000), "amount"),
    "40 decimals": (lambda: body(amount="0." + "0" * 39 + "1"), "amount"),
    "a valid value in 42 characters": (lambda: body(amount="1." + "0" * 40), "amount"),
    "EUR with 3 decimals": (lambda: body(amount="42.501"), "amount"),
    "EUR cent fractions": (lambda: body(amount="0.001"), "amount"),
    "JPY with decimals": (lambda: body(amount="100.5", currency="JPY"), "amount"),
    "KWD with 4 decimals": (lambda: body(amount="1.0001", currency="KWD"), "amount"),
    "CLF with 5 decimals": (lambda: body(amount="0.00001", currency="CLF"), "amount"),
    "EUR decimals in exponent notation": (lambda: body(amount="4251e-3"), "amount"),
    "over the cap in exponent notation": (lambda: body(amount="1.0000001e6"), "amount"),
    "timestamp 5.5 minutes ahead": (at(5 * MINUTE_MS + 30_000), "timestamp"),
    "timestamp 5.5 minutes behind": (at(-5 * MINUTE_MS - 30_000), "timestamp"),
    "timestamp a month behind": (at(-30 * 24 * 60 * MINUTE_MS), "timestamp"),
    "timestamp in 1970": (lambda: body(timestamp="1"), "timestamp"),
    "timestamp zero": (lambda: body(timestamp="0"), "timestamp"),
    "timestamp in 9999": (lambda: body(timestamp="253402300799999"), "timestamp"),
    "negative timestamp": (lambda: body(timestamp="-1"), "timestamp"),
    "timestamp of 40 digits": (lambda: body(timestamp="9" * 40), "timestamp"),
    "timestamp in exponent notation": (lambda: body(timestamp="1.7e12"), "timestamp"),
}

# The rule is what a value is, not how it is written: these are all accepted.
ACCEPTED: dict[str, Callable[[], bytes]] = {
    "exponent notation of a plain amount": lambda: body(amount="4.25e1"),
    "a small positive exponent": lambda: body(amount="1E+2"),
    "a small negative exponent": lambda: body(amount="1e-2"),
    "trailing zeros": lambda: body(amount="42.500000"),
    "the cap": lambda: body(amount="1000000"),
    "JPY in exponent notation": lambda: body(amount="1e3", currency="JPY"),
    "KWD with 3 decimals": lambda: body(amount="1.001", currency="KWD"),
    "timestamp 4 minutes behind": at(-4 * MINUTE_MS),
    "timestamp 4 minutes ahead": at(4 * MINUTE_MS),
    "no timestamp": lambda: body(timestamp=None),
}


@pytest.fixture(params=["transaction_processor", "fraud_api"])
def entry_point(request: pytest.FixtureRequest) -> EntryPoint:
    if request.param == "transaction_processor":
        return ProcessorEntryPoint(request.getfixturevalue("processor_env"))
    return FraudApiEntryPoint(request.getfixturevalue("client"), request.getfixturevalue("shared_database"))


def post_measured(entry_point: EntryPoint, raw: bytes) -> tuple[Answer, int]:
    """The answer and the peak of memory allocated while producing it."""
    tracemalloc.start()
    try:
        answer = entry_point.post(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return answer, peak


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_hostile_transaction_is_refused_cheaply_naming_its_field(case: str, entry_point: EntryPoint) -> None:
    build, field = REFUSED[case]
    before = entry_point.stored_count()

    answer, peak = post_measured(entry_point, build())

    assert (answer.status, answer.fields) == (400, [field]), answer.body
    assert peak < MAX_REFUSAL_ALLOCATION_BYTES, f"{peak} bytes allocated to refuse it"
    assert entry_point.stored_count() == before


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_the_contract_accepts_plain_values_however_written(case: str, entry_point: EntryPoint) -> None:
    before = entry_point.stored_count()

    answer = entry_point.post(ACCEPTED[case]())

    assert answer.status == 201, answer.body
    assert entry_point.stored_count() == before + 1


CHANGES: dict[str, Any] = {
    "user_id": "someone-else",
    "amount": 4_200,
    "currency": "USD",
    "merchant_id": "merchant-2",
    "country": "KP",
    "merchant_category": "7995",
    "card_fingerprint": "fp_other",
    "timestamp": "one second later",
}


def test_every_compared_field_is_covered() -> None:
    assert set(CHANGES) == {*COMPARED_FIELDS, "timestamp"}


@pytest.mark.parametrize("field", list(CHANGES))
def test_a_replay_with_changed_content_is_a_conflict_and_overwrites_nothing(field: str, entry_point: EntryPoint) -> None:
    original = json.loads(body(card_fingerprint="fp_1"))
    assert entry_point.post(json.dumps(original).encode()).status == 201
    stored_before, count_before = entry_point.stored(original["transaction_id"]), entry_point.stored_count()
    change = original["timestamp"] + 1_000 if field == "timestamp" else CHANGES[field]

    answer = entry_point.post(json.dumps({**original, field: change}).encode())
    retry = entry_point.post(json.dumps(original).encode())

    assert answer.status == 409
    assert answer.reasons == [f"transaction_id: already stored with a different {field}; use a new transaction_id"]
    assert entry_point.stored(original["transaction_id"]) == stored_before
    assert entry_point.stored_count() == count_before
    assert retry.status == 200, "the stored decision still answers the real retry"


def test_a_conflicting_replay_of_a_declined_transaction_sends_no_second_alert(processor_env: AlertsTopic) -> None:
    processor = ProcessorEntryPoint(processor_env)
    original = json.loads(body(amount="60000", country="KP", merchant_category="7995"))
    assert processor.post(json.dumps(original).encode()).body["decision"] == "decline"
    processor.alerts()

    assert processor.post(json.dumps({**original, "amount": 90_000}).encode()).status == 409
    assert processor.alerts() == []


# --- Property: generated hostile amounts and timestamps, both paths, one independent oracle ----------


def amount_is_valid(literal: str, currency: str) -> bool:
    """The documented rule, evaluated with exact fractions (not the services' Decimal code)."""
    if len(literal) > 32:
        return False
    mantissa, _, exponent = literal.lower().partition("e")
    if len(exponent.lstrip("+-").lstrip("0")) > 2:
        return False
    value = Fraction(mantissa) * Fraction(10) ** int(exponent or "0")
    return 0 < value <= 1_000_000 and (value * 10 ** MINOR_UNITS[currency]).denominator == 1


@st.composite
def amount_literals(draw: st.DrawFn) -> str:
    sign = draw(st.sampled_from(["", "", "", "-"]))
    whole = draw(st.one_of(st.from_regex(r"[1-9][0-9]{0,40}", fullmatch=True), st.just("0")))
    fraction = draw(st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=40).map(lambda f: "." + f)))
    exponent_digits = draw(
        st.one_of(
            st.just(None),
            st.integers(0, 12).map(str),
            st.integers(0, 10**40).map(str),  # exponents of every size
            st.integers(0, 99).map(lambda e: "0" * 20 + str(e)),  # leading zeros
        )
    )
    if exponent_digits is None:
        return f"{sign}{whole}{fraction}"
    return f"{sign}{whole}{fraction}{draw(st.sampled_from('eE'))}{draw(st.sampled_from(['', '+', '-']))}{exponent_digits}"


WINDOW_MS = TIMESTAMP_WINDOW.behind_ms
# Requests take milliseconds; examples this close to the window's edges are not decided here.
EDGE_MARGIN_MS = 2_000

timestamp_offsets = st.one_of(
    st.none(),  # no timestamp: the server stamps it
    st.integers(-2 * WINDOW_MS, 2 * WINDOW_MS),
    st.integers(-(10**15), 10**15),
    st.sampled_from([-WINDOW_MS - 5_000, -WINDOW_MS + 5_000, WINDOW_MS - 5_000, WINDOW_MS + 5_000]),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    amount=amount_literals(),
    currency=st.sampled_from(["EUR", "JPY", "KWD", "CLF", "USD"]),
    offset=timestamp_offsets,
)
def test_both_paths_agree_with_the_rules_on_generated_hostile_input(
    amount: str,
    currency: str,
    offset: int | None,
    processor_env: AlertsTopic,
    client: InProcessClient,
    shared_database: AppDatabase,
) -> None:
    if offset is not None:
        assume(abs(abs(offset) - WINDOW_MS) > EDGE_MARGIN_MS)
    valid = amount_is_valid(amount, currency) and (offset is None or abs(offset) <= WINDOW_MS)
    event("accepted" if valid else "refused")
    paths: list[EntryPoint] = [ProcessorEntryPoint(processor_env), FraudApiEntryPoint(client, shared_database)]
    for path in paths:
        raw = body(amount=amount, currency=currency, timestamp=None if offset is None else str(now_ms() + offset))
        before = path.stored_count()

        answer = path.post(raw)

        assert answer.status == (201 if valid else 400), (path.name, amount, offset, answer.body)
        assert path.stored_count() == before + (1 if valid else 0)
        if not valid:
            assert set(answer.fields) <= {"amount", "timestamp"}, answer.reasons
