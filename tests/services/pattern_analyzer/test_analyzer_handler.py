from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from fraud_scoring import ScoreResult, Transaction
from pattern_analyzer import handler as analyzer
from pattern_analyzer.alerts import MARKER_PREFIX
from tests.services.aws_fixtures import AlertsTopic, put_scoring_parameter, scheduled_event, table_items, write_items
from transaction_processor.store import transaction_item

RUN_AT = datetime(2024, 5, 1, 12, 0, 30, tzinfo=UTC)  # not on a minute: the edge buckets are partial
RUN_AT_MS = int(RUN_AT.timestamp() * 1000)
WINDOW_MS = 10 * 60_000


def stored(
    txn_id: str,
    at_ms: int,
    *,
    user: str = "user-1",
    merchant: str = "merchant-1",
    amount: str = "20",
    decision: str = "approve",
) -> dict[str, Any]:
    """An item exactly as the transaction processor writes it."""
    txn = Transaction(txn_id, user, Decimal(amount), "EUR", merchant, "DE", "5411", at_ms)
    return transaction_item(txn, ScoreResult(0.1, decision, ()), shards=4, ttl_days=90)  # type: ignore[arg-type]


def quiet_traffic(count: int, start_ms: int, end_ms: int, prefix: str) -> list[dict[str, Any]]:
    """Unremarkable transactions spread evenly over [start_ms, end_ms], one per user."""
    step = (end_ms - start_ms) // max(1, count - 1)
    return [stored(f"{prefix}-{i}", start_ms + i * step, user=f"{prefix}-user-{i}") for i in range(count)]


def test_only_the_window_is_read(analyzer_env: AlertsTopic, lambda_context: Any) -> None:
    in_window = quiet_traffic(25, RUN_AT_MS - WINDOW_MS, RUN_AT_MS, "in")
    # 20x as many outside: the hours before, the seconds just before the window in its first
    # minute bucket, and just after the run time in its last minute bucket.
    before = quiet_traffic(450, RUN_AT_MS - 6 * 3_600_000, RUN_AT_MS - WINDOW_MS - 1, "before")
    edges = quiet_traffic(25, RUN_AT_MS - WINDOW_MS - 30_000, RUN_AT_MS - WINDOW_MS - 1, "edge-start")
    edges += quiet_traffic(25, RUN_AT_MS + 1, RUN_AT_MS + 29_000, "edge-end")
    assert len(before + edges) == 20 * len(in_window)
    write_items(in_window + before + edges)

    summary = analyzer.handler(scheduled_event(RUN_AT), lambda_context)

    assert summary["items_read"] == 25
    assert summary["scanned_count"] == 25, "DynamoDB evaluated only items inside the window"
    assert summary["queries"] == 11 * 4, "one query per (minute, shard) bucket of the window"
    assert summary["findings"] == 0 and summary["alerts_published"] == 0


def burst(
    user: str, start_ms: int, count: int, *, decision: str = "approve", merchant: str = "merchant-1"
) -> list[dict[str, Any]]:
    return [
        stored(f"{user}-b{i}", start_ms + i * 1_000, user=user, decision=decision, merchant=merchant)
        for i in range(count)
    ]


def test_findings_are_alerted_once_each(analyzer_env: AlertsTopic, lambda_context: Any) -> None:
    items = burst("burster", RUN_AT_MS - 200_000, 9)  # 9 in 8 s >= 8 in 120 s
    items += [
        stored(f"sus-{i}", RUN_AT_MS - 300_000 + i * 60_000, user="suspect", decision="decline", merchant=f"m-{i}")
        for i in range(3)
    ]
    items += [
        stored(f"spk-{i}", RUN_AT_MS - 500_000 + i * 60_000, user="spiker", amount="30", merchant=f"s-{i}")
        for i in range(4)
    ]
    items += [stored("spk-big", RUN_AT_MS - 10_000, user="spiker", amount="900", merchant="s-big")]
    items += [
        stored(f"mer-{i}", RUN_AT_MS - 400_000 + i * 1_000, user=f"victim-{i}", decision="review", merchant="shady")
        for i in range(5)
    ]
    write_items(items)

    summary = analyzer.handler(scheduled_event(RUN_AT), lambda_context)
    alerts = analyzer_env.read_alerts()

    found = sorted(alert["message"]["finding_id"] for alert in alerts)
    assert found == [
        "amount_spike#user#spiker",
        "suspicious_cluster#merchant#shady",
        "suspicious_cluster#user#suspect",
        "velocity_burst#user#burster",
    ]
    assert summary["findings"] == summary["alerts_published"] == 4
    by_id = {alert["message"]["finding_id"]: alert for alert in alerts}
    assert by_id["suspicious_cluster#user#suspect"]["attributes"]["severity"] == "high"
    assert by_id["velocity_burst#user#burster"]["attributes"] == {
        "alert_type": "pattern_finding",
        "finding_kind": "velocity_burst",
        "severity": "medium",
    }
    assert by_id["amount_spike#user#spiker"]["message"]["details"]["largest_transaction_id"] == "spk-big"


def test_overlapping_consecutive_runs_do_not_alert_twice(analyzer_env: AlertsTopic, lambda_context: Any) -> None:
    # Inside both [T-10, T] and [T-5, T+5].
    write_items(burst("burster", RUN_AT_MS - 120_000, 10))

    first = analyzer.handler(scheduled_event(RUN_AT), lambda_context)
    second = analyzer.handler(scheduled_event(RUN_AT + timedelta(minutes=5)), lambda_context)
    retried = analyzer.handler(scheduled_event(RUN_AT + timedelta(minutes=5)), lambda_context)

    assert (first["alerts_published"], first["duplicates_suppressed"]) == (1, 0)
    assert (second["alerts_published"], second["duplicates_suppressed"]) == (0, 1)
    assert (retried["alerts_published"], retried["duplicates_suppressed"]) == (0, 1)
    assert len(analyzer_env.read_alerts()) == 1


def test_a_pattern_that_persists_past_the_claim_is_a_new_alert(analyzer_env: AlertsTopic, lambda_context: Any) -> None:
    write_items(burst("burster", RUN_AT_MS - 120_000, 10))
    analyzer.handler(scheduled_event(RUN_AT), lambda_context)
    later = RUN_AT + timedelta(minutes=15)
    write_items(
        [stored(f"again-{i}", int(later.timestamp() * 1000) - 60_000 + i * 1_000, user="burster") for i in range(10)]
    )

    summary = analyzer.handler(scheduled_event(later), lambda_context)

    assert summary["alerts_published"] == 1
    assert len(analyzer_env.read_alerts()) == 2


def test_markers_stay_out_of_the_window_index(analyzer_env: AlertsTopic, lambda_context: Any) -> None:
    write_items(burst("burster", RUN_AT_MS - 120_000, 10))
    analyzer.handler(scheduled_event(RUN_AT), lambda_context)

    [marker] = [item for item in table_items() if item["transaction_id"]["S"].startswith(MARKER_PREFIX)]
    assert marker["transaction_id"]["S"] == "finding#velocity_burst#user#burster"
    assert marker["timestamp"] == {"N": "0"}
    assert "time_bucket" not in marker and "user_id" not in marker
    assert int(marker["expires_at"]["N"]) == RUN_AT_MS // 1000 + 86_400


def test_a_failed_publish_releases_the_claim_for_the_retry(
    analyzer_env: AlertsTopic, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_items(burst("burster", RUN_AT_MS - 120_000, 10))
    real_publish = analyzer.clients.sns.publish
    monkeypatch.setattr(analyzer.clients.sns, "publish", lambda **_: (_ for _ in ()).throw(ConnectionError("sns down")))
    with pytest.raises(ConnectionError):
        analyzer.handler(scheduled_event(RUN_AT), lambda_context)

    monkeypatch.setattr(analyzer.clients.sns, "publish", real_publish)
    retried = analyzer.handler(scheduled_event(RUN_AT), lambda_context)

    assert retried["alerts_published"] == 1
    assert len(analyzer_env.read_alerts()) == 1


def test_an_alert_storm_is_capped_and_the_rest_deferred(analyzer_env: AlertsTopic, lambda_context: Any) -> None:
    put_scoring_parameter({"patterns": {"max_alerts_per_run": 2}})
    write_items([item for n in range(3) for item in burst(f"burster-{n}", RUN_AT_MS - 120_000, 8)])

    summary = analyzer.handler(scheduled_event(RUN_AT), lambda_context)

    assert (summary["findings"], summary["alerts_published"], summary["alerts_deferred"]) == (3, 2, 1)
    assert len(analyzer_env.read_alerts()) == 2
