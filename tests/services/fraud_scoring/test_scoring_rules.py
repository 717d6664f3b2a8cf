from __future__ import annotations

from decimal import Decimal

import pytest

from fraud_scoring import ScoringConfig, UserHistory, score_transaction
from tests.services.fraud_scoring.scoring_support import AT, familiar, history, past, txn

DEFAULT = ScoringConfig.default()


def codes(result_reasons: tuple[str, ...]) -> list[str]:
    return [reason.split(":", 1)[0] for reason in result_reasons]


def test_an_ordinary_transaction_of_a_known_user_is_approved_without_reasons() -> None:
    result = score_transaction(txn(), familiar(), DEFAULT)
    assert (result.score, result.decision, result.reasons) == (0.0, "approve", ())


@pytest.mark.parametrize(
    "amount, weight",
    [
        ("999.99", 0.0),
        ("1000", 0.15),
        ("4999.99", 0.15),
        ("5000", 0.35),
        ("10000", 0.55),
        ("50000", 0.75),
        ("1000000", 0.75),
    ],
)
def test_the_highest_amount_tier_reached_applies(amount: str, weight: float) -> None:
    result = score_transaction(txn(amount=amount), familiar(typical=amount), DEFAULT)
    assert result.score == weight
    assert (codes(result.reasons) == ["high_amount"]) == (weight > 0)


def test_velocity_counts_the_transaction_itself_within_each_window() -> None:
    three_recent = familiar(past(10), past(20), past(30))
    result = score_transaction(txn(), three_recent, DEFAULT)
    assert codes(result.reasons) == ["velocity_1m"]
    assert result.reasons[0] == "velocity_1m: 4 transactions > 3 within 60s"
    assert result.score == 0.4


def test_velocity_ignores_transactions_outside_the_window_and_after_the_transaction() -> None:
    result = score_transaction(txn(), familiar(past(61), past(90), past(-5), past(-10), past(-20)), DEFAULT)
    assert "velocity_1m" not in codes(result.reasons)


def test_velocity_sums_amounts_but_a_single_large_amount_is_not_velocity() -> None:
    alone = score_transaction(txn(amount=2_999), familiar(), DEFAULT)
    assert "velocity_1m" not in codes(alone.reasons)
    two = score_transaction(txn(amount=2_000), familiar(past(30, amount=1_500)), DEFAULT)
    assert two.reasons[-1] == "velocity_1m: total 3500.00 > 3000.00 within 60s"


def test_the_hour_window_fires_on_its_own() -> None:
    sixteen = familiar(*(past(120 + 60 * i) for i in range(15)))
    assert codes(score_transaction(txn(), sixteen, DEFAULT).reasons) == ["velocity_1h"]


def test_high_risk_country_and_merchant_category() -> None:
    user = familiar(past(86_400 * 5, country="KP"), past(86_400 * 5, merchant="m-2"))
    result = score_transaction(txn(country="KP", merchant_category="7995"), user, DEFAULT)
    assert codes(result.reasons) == ["high_risk_country", "high_risk_merchant_category"]
    assert result.score == round(1 - (1 - 0.35) * (1 - 0.25), 4)


def test_first_transaction_of_a_user() -> None:
    result = score_transaction(txn(), UserHistory.empty(), DEFAULT)
    assert codes(result.reasons) == ["first_transaction"]
    assert score_transaction(txn(), None, DEFAULT) == result


def test_first_time_in_a_country_and_at_a_merchant() -> None:
    result = score_transaction(txn(country="FR", merchant_id="m-new"), familiar(), DEFAULT)
    assert codes(result.reasons) == ["new_country", "new_merchant"]


def test_amount_spike_against_the_users_median() -> None:
    result = score_transaction(txn(amount=100), familiar(), DEFAULT)  # median 20, 5x = 100
    assert codes(result.reasons) == ["amount_spike"]
    assert score_transaction(txn(amount="99.99"), familiar(), DEFAULT).reasons == ()


def test_signals_combine_as_independent_evidence_into_decisions() -> None:
    result = score_transaction(txn(amount=12_000, country="KP"), None, DEFAULT)
    # high_amount 0.55, high_risk_country 0.35, first_transaction 0.10
    assert result.score == round(1 - 0.45 * 0.65 * 0.90, 4)
    assert result.decision == "review"
    declined = score_transaction(txn(amount=60_000, country="KP", merchant_category="7995"), None, DEFAULT)
    assert declined.decision == "decline"


def test_thresholds_come_only_from_config() -> None:
    strict = ScoringConfig.from_mapping({"review_threshold": 0.12, "decline_threshold": 0.14})
    assert score_transaction(txn(), None, strict).decision == "approve"  # 0.10
    assert score_transaction(txn(amount=1_000), familiar(typical=1_000), strict).decision == "decline"  # 0.15


def test_history_after_the_transaction_is_ignored() -> None:
    only_later = history(past(-60), past(-120))
    assert codes(score_transaction(txn(), only_later, DEFAULT).reasons) == ["first_transaction"]


def test_now_stands_in_for_a_missing_timestamp() -> None:
    result = score_transaction(txn(timestamp=None), familiar(past(10), past(20), past(30)), DEFAULT, now_ms=AT)
    assert codes(result.reasons) == ["velocity_1m"]


def test_result_serialises() -> None:
    result = score_transaction(txn(amount=Decimal(5_000)), familiar(typical=5_000), DEFAULT)
    assert result.to_dict() == {
        "score": 0.35,
        "decision": "approve",
        "reasons": ["high_amount: 5000.00 EUR is at or above 5000.00"],
    }
