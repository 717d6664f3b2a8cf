"""The timestamp window and the replay comparison: the two rules of the contract that need state
(the server's clock, the stored transaction), exercised here without either path around them."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from fraud_scoring import TIMESTAMP_WINDOW, ReplayConflict, ValidationError, check_replay, conflicting_fields
from tests.services.fraud_scoring.scoring_support import AT, txn

FIVE_MINUTES_MS = 5 * 60_000


@pytest.mark.parametrize("offset_ms", [-FIVE_MINUTES_MS, -1, 0, 1, FIVE_MINUTES_MS])
def test_the_window_includes_its_edges(offset_ms: int) -> None:
    assert TIMESTAMP_WINDOW.stamp(txn(timestamp=AT + offset_ms), now_ms=AT).timestamp == AT + offset_ms


@pytest.mark.parametrize("offset_ms", [-FIVE_MINUTES_MS - 1, FIVE_MINUTES_MS + 1, -AT, 10**15])
def test_outside_the_window_is_refused_naming_timestamp(offset_ms: int) -> None:
    with pytest.raises(ValidationError) as refused:
        TIMESTAMP_WINDOW.stamp(txn(timestamp=AT + offset_ms), now_ms=AT)

    (reason,) = refused.value.reasons
    assert reason.startswith("timestamp: must be within 5 minutes before and 5 minutes after the server's time")
    assert "2024-05-01T12:00:00.000Z" in reason, "the server's time, so a client can see its skew"


def test_no_timestamp_means_the_server_s_time() -> None:
    assert TIMESTAMP_WINDOW.stamp(txn(timestamp=None), now_ms=AT).timestamp == AT


def test_the_same_content_is_a_retry_whatever_the_amount_s_scale() -> None:
    stored = txn(amount=Decimal("42.50"), card_fingerprint="fp")

    check_replay(stored, dataclasses.replace(stored, amount=Decimal("42.5")))
    check_replay(stored, dataclasses.replace(stored, timestamp=None))  # the server stamped the first one


def test_every_difference_is_named() -> None:
    stored = txn(card_fingerprint="fp")
    changed = dataclasses.replace(stored, amount=Decimal("99"), country="KP", card_fingerprint=None, timestamp=AT + 1)

    assert conflicting_fields(stored, changed) == ["amount", "card_fingerprint", "country", "timestamp"]
    with pytest.raises(ReplayConflict) as conflict:
        check_replay(stored, changed)
    assert conflict.value.reasons[0] == "transaction_id: already stored with a different amount; use a new transaction_id"
