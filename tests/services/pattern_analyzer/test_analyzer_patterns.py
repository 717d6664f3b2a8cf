from __future__ import annotations

from decimal import Decimal

from fraud_scoring.config import PatternThresholds
from pattern_analyzer.patterns import MAX_EVIDENCE, WindowTransaction, find_patterns

T0 = 1_714_564_800_000
# The defaults, spelled out: the cases below are built around them.
THRESHOLDS = PatternThresholds(
    burst_window_seconds=120,
    burst_min_transactions=8,
    user_suspicious_min=3,
    merchant_suspicious_min=5,
    spike_multiplier=Decimal(5),
    spike_min_transactions=4,
    max_alerts_per_run=100,
)


def wt(
    n: int, at_s: float, user: str = "u", merchant: str = "m", amount: str = "20", decision: str = "approve"
) -> WindowTransaction:
    return WindowTransaction(f"t{n}-{user}", T0 + int(at_s * 1000), user, merchant, Decimal(amount), decision)


def kinds(findings: list) -> list[str]:  # type: ignore[type-arg]
    return [finding.finding_id for finding in findings]


def test_quiet_traffic_has_no_findings() -> None:
    assert find_patterns([wt(i, i * 60, user=f"u{i}") for i in range(50)], THRESHOLDS) == []


def test_a_burst_is_the_most_transactions_in_any_span() -> None:
    spread = [wt(i, i * 20) for i in range(8)]  # 8 over 140 s: at most 6 in any 120 s
    assert find_patterns(spread, THRESHOLDS) == []
    tight = spread + [wt(100 + i, 300 + i) for i in range(8)]
    [finding] = find_patterns(tight, THRESHOLDS)
    assert finding.finding_id == "velocity_burst#user#u"
    assert finding.details["count"] == 8 and finding.severity == "medium"
    assert finding.evidence == tuple(f"t{100 + i}-u" for i in range(8))


def test_a_burst_of_twice_the_threshold_is_high_severity() -> None:
    [finding] = find_patterns([wt(i, i) for i in range(16)], THRESHOLDS)
    assert finding.severity == "high"


def test_suspicious_clusters_per_user_and_per_merchant() -> None:
    user_cluster = [wt(i, i * 100, user="bad", merchant=f"m{i}", decision="review") for i in range(3)]
    merchant_cluster = [wt(i, i * 100, user=f"victim{i}", merchant="shady", decision="decline") for i in range(5)]
    findings = find_patterns(user_cluster + merchant_cluster, THRESHOLDS)
    assert kinds(findings) == ["suspicious_cluster#merchant#shady", "suspicious_cluster#user#bad"]
    merchant, user = findings
    assert (merchant.severity, merchant.details) == ("high", {"count": 5, "declined": 5, "users": 5})
    assert (user.severity, user.details["declined"]) == ("medium", 0)


def test_an_amount_spike_against_the_users_window_median() -> None:
    normal = [wt(i, i * 100, amount="30") for i in range(3)]
    assert find_patterns(normal + [wt(9, 400, amount="149.99")], THRESHOLDS) == []
    [finding] = find_patterns(normal + [wt(9, 400, amount="150")], THRESHOLDS)
    assert finding.finding_id == "amount_spike#user#u"
    assert finding.details == {"median": "30", "largest_amount": "150", "largest_transaction_id": "t9-u"}


def test_evidence_is_capped_and_detection_is_order_independent() -> None:
    txns = [wt(i, i * 0.1, decision="decline") for i in range(60)]
    findings = find_patterns(txns, THRESHOLDS)
    assert all(len(finding.evidence) <= MAX_EVIDENCE for finding in findings)
    assert find_patterns(list(reversed(txns)), THRESHOLDS) == findings
