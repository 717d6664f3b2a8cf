"""Properties of the scoring function over generated transactions, histories and configs."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from fraud_scoring import PastTransaction, ScoringConfig, UserHistory, score_transaction
from tests.services.fraud_scoring.scoring_support import AT, txn

settings.register_profile("services", max_examples=150, deadline=None)
settings.load_profile("services")

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1_000_000), places=2)
countries = st.sampled_from(["DE", "FR", "KP", "US"])
merchants = st.sampled_from(["m-1", "m-2", "m-3"])
mccs = st.sampled_from([None, "5411", "7995"])
past_transactions = st.builds(
    PastTransaction,
    timestamp=st.integers(min_value=AT - 7_200_000, max_value=AT + 60_000),
    amount=amounts,
    country=countries,
    merchant_id=merchants,
)
histories = st.lists(past_transactions, max_size=25).map(UserHistory.of)
transactions = st.builds(
    lambda amount, country, merchant, mcc: txn(
        amount=amount, country=country, merchant_id=merchant, merchant_category=mcc
    ),
    amounts,
    countries,
    merchants,
    mccs,
)


@st.composite
def configs(draw: st.DrawFn) -> ScoringConfig:
    review = draw(st.floats(min_value=0.01, max_value=0.9))
    decline = draw(st.floats(min_value=review + 0.01, max_value=1.0))
    weights = sorted(draw(st.lists(st.floats(min_value=0, max_value=1), min_size=3, max_size=3)))
    return ScoringConfig.from_mapping(
        {
            "review_threshold": review,
            "decline_threshold": decline,
            "amount_tiers": [
                {"min_amount": m, "weight": w} for m, w in zip([500, 5_000, 50_000], weights, strict=True)
            ],
            "high_risk_country_weight": draw(st.floats(min_value=0, max_value=1)),
        }
    )


@given(transactions, histories, configs())
def test_score_is_a_probability_and_the_decision_follows_the_thresholds(t, h, config) -> None:  # type: ignore[no-untyped-def]
    result = score_transaction(t, h, config)
    assert 0.0 <= result.score <= 1.0
    expected = (
        "decline"
        if result.score >= config.decline_threshold
        else "review"
        if result.score >= config.review_threshold
        else "approve"
    )
    assert result.decision == expected
    assert result.reasons or result.score == 0, "a non-zero score is always explained"


@given(transactions, histories, configs())
def test_scoring_is_deterministic(t, h, config) -> None:  # type: ignore[no-untyped-def]
    reordered = UserHistory(tuple(reversed(h.transactions)))
    assert score_transaction(t, h, config) == score_transaction(t, h, config) == score_transaction(t, reordered, config)


@given(transactions, histories, configs(), amounts, amounts)
def test_a_larger_amount_never_lowers_the_score(t, h, config, a, b) -> None:  # type: ignore[no-untyped-def]
    low, high = sorted((a, b))
    low_result = score_transaction(txn(**{**t.__dict__, "amount": low}), h, config)
    high_result = score_transaction(txn(**{**t.__dict__, "amount": high}), h, config)
    assert high_result.score >= low_result.score
    order = ["approve", "review", "decline"]
    assert order.index(high_result.decision) >= order.index(low_result.decision)
