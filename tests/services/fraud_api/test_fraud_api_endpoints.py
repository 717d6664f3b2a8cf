"""The three endpoints in-process against the real PostgreSQL: the contract clients rely on."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from fraud_api.responses import signature_of
from tests.services.fraud_api.app_database import SIGNING_KEY, AppDatabase, insert_transaction
from tests.services.fraud_api.inprocess import InProcessClient
from tests.services.payloads import now_ms, transaction, unique_id


@pytest.mark.parametrize("path", ["/health", "/api/health"])
def test_health_reports_ok_when_the_database_answers(client: InProcessClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_score_stores_and_returns_the_decision(client: InProcessClient, shared_database: AppDatabase) -> None:
    payload = transaction()

    response = client.post("/api/v1/score", json=payload)

    assert response.status_code == 201
    body = response.json()
    assert body["transaction_id"] == payload["transaction_id"]
    assert body["decision"] in {"approve", "review", "decline"}
    assert 0 <= body["score"] <= 1
    assert any(reason.startswith("first_transaction") for reason in body["reasons"])
    with shared_database.admin() as conn:
        stored = conn.execute(
            "SELECT user_id, amount::text, score, decision FROM transactions WHERE transaction_id = %s",
            (payload["transaction_id"],),
        ).fetchone()
    assert stored == (payload["user_id"], "42.50", body["score"], body["decision"])  # EUR has 2 decimals


def test_responses_are_signed_with_the_api_config_key(client: InProcessClient) -> None:
    response = client.post("/api/v1/score", json=transaction())

    assert response.headers["x-fraud-signature"] == signature_of(response.content, SIGNING_KEY)


def test_responses_carry_the_request_id(client: InProcessClient) -> None:
    given = client.get("/health", headers={"x-request-id": "req-123"})
    generated = client.get("/health")

    assert given.headers["x-request-id"] == "req-123"
    assert len(generated.headers["x-request-id"]) == 32


def test_history_from_earlier_transactions_changes_the_score(client: InProcessClient) -> None:
    user = unique_id("user")
    start = now_ms() - 10_000
    for i in range(4):
        client.post("/api/v1/score", json=transaction(user_id=user, timestamp=start + i * 1000, amount=20))

    burst = client.post("/api/v1/score", json=transaction(user_id=user, timestamp=start + 5000, amount=400)).json()

    assert any(reason.startswith("velocity_1m") for reason in burst["reasons"])
    assert any(reason.startswith("amount_spike") for reason in burst["reasons"])
    assert not any(reason.startswith("first_transaction") for reason in burst["reasons"])


def test_the_same_transaction_twice_is_stored_once_with_identical_answers(
    client: InProcessClient, shared_database: AppDatabase
) -> None:
    payload = transaction()

    first = client.post("/api/v1/score", json=payload)
    second = client.post("/api/v1/score", json=payload)

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.content == second.content
    assert shared_database.count_transactions(payload["transaction_id"]) == 1


def test_a_replay_with_other_content_is_a_conflict_and_changes_nothing(client: InProcessClient) -> None:
    payload = transaction(amount=10)
    client.post("/api/v1/score", json=payload)
    before = client.get(f"/api/v1/transactions/{payload['transaction_id']}").json()

    replay = client.post("/api/v1/score", json={**payload, "amount": 90_000, "country": "KP"})

    assert replay.status_code == 409
    assert replay.json() == {
        "errors": [
            "transaction_id: already stored with a different amount; use a new transaction_id",
            "transaction_id: already stored with a different country; use a new transaction_id",
        ]
    }
    assert client.get(f"/api/v1/transactions/{payload['transaction_id']}").json() == before


def test_a_replay_is_recognised_whatever_the_written_form_of_its_amount(client: InProcessClient) -> None:
    payload = transaction(amount=42.5)
    first = client.post("/api/v1/score", json=payload)
    raw = json.dumps(payload).replace('"amount": 42.5', '"amount": 4.250e1')

    again = client.post("/api/v1/score", content=raw, headers={"content-type": "application/json"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.content == first.content


def test_a_retry_without_the_timestamp_is_a_replay(client: InProcessClient) -> None:
    payload = transaction()
    first = client.post("/api/v1/score", json=payload)
    # The request leaves the time to the server, so any stored time matches it.
    without_timestamp = client.post("/api/v1/score", json=transaction(**{**payload, "timestamp": ...}))

    assert (first.status_code, without_timestamp.status_code) == (201, 200)
    assert without_timestamp.content == first.content


def test_a_late_retry_of_a_stored_transaction_still_gets_its_decision(
    client: InProcessClient, shared_database: AppDatabase
) -> None:
    hour_ago = now_ms() - 3_600_000
    stored = transaction(timestamp=hour_ago)
    with shared_database.admin() as conn:
        insert_transaction(conn, stored, score=0.25, decision="approve", reasons=["first_transaction: stored"])
    rows_before = shared_database.count_transactions()

    retry = client.post("/api/v1/score", json=stored)
    changed = client.post("/api/v1/score", json={**stored, "amount": 43})
    unknown = client.post("/api/v1/score", json=transaction(timestamp=hour_ago))

    assert retry.status_code == 200
    assert retry.json() == {
        "transaction_id": stored["transaction_id"], "score": 0.25, "decision": "approve",
        "reasons": ["first_transaction: stored"],
    }
    assert changed.status_code == 409
    assert unknown.status_code == 400
    assert [reason.split(":")[0] for reason in unknown.json()["errors"]] == ["timestamp"]
    assert shared_database.count_transactions() == rows_before


def test_concurrent_duplicates_store_one_row_and_agree(client: InProcessClient, shared_database: AppDatabase) -> None:
    payload = transaction()

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: client.post("/api/v1/score", json=payload), range(6)))

    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({r.content for r in responses}) == 1
    assert shared_database.count_transactions(payload["transaction_id"]) == 1


def test_a_transaction_without_timestamp_is_stored_at_arrival(client: InProcessClient) -> None:
    payload = transaction(timestamp=...)

    client.post("/api/v1/score", json=payload)
    stored = client.get(f"/api/v1/transactions/{payload['transaction_id']}").json()

    assert abs(stored["timestamp"] - now_ms()) < 60_000


def test_get_returns_the_stored_record(client: InProcessClient) -> None:
    payload = transaction(amount=1234.56)
    scored = client.post("/api/v1/score", json=payload).json()

    response = client.get(f"/api/v1/transactions/{payload['transaction_id']}")

    assert response.status_code == 200
    record = response.json()
    assert {key: record[key] for key in payload} == payload
    assert {key: record[key] for key in ("score", "decision", "reasons")} == {
        key: scored[key] for key in ("score", "decision", "reasons")
    }
    assert record["created_at"].endswith("Z")


def test_get_of_an_unknown_transaction_is_404(client: InProcessClient) -> None:
    response = client.get(f"/api/v1/transactions/{unique_id()}")

    assert response.status_code == 404
    assert response.json()["errors"]


def test_get_with_a_malformed_id_is_400(client: InProcessClient) -> None:
    for bad_id in ("has%20space", "x" * 65, "semi;colon", "%27%3B%20DROP%20TABLE%20transactions%3B%20--"):
        response = client.get(f"/api/v1/transactions/{bad_id}")
        assert response.status_code == 400, bad_id
        assert response.json()["errors"]


def test_unknown_routes_and_methods_are_refused(client: InProcessClient) -> None:
    assert client.get("/api/v1/score").status_code == 405
    assert client.delete(f"/api/v1/transactions/{unique_id()}").status_code == 405
    assert client.get("/api/v2/score").status_code == 404


def test_amounts_are_stored_exactly_at_the_currency_s_scale(
    client: InProcessClient, shared_database: AppDatabase
) -> None:
    cases = {"EUR": ("0.1", "0.10"), "JPY": ("1e3", "1000"), "KWD": ("12.345", "12.345"), "CLF": ("0.0001", "0.0001")}
    ids = {}
    for currency, (written, _) in cases.items():
        payload = transaction(currency=currency)
        ids[currency] = payload["transaction_id"]
        raw = json.dumps(payload).replace('"amount": 42.5', f'"amount": {written}')
        assert client.post("/api/v1/score", content=raw, headers={"content-type": "application/json"}).status_code == 201

    with shared_database.admin() as conn:
        stored = {
            currency: conn.execute("SELECT amount::text FROM transactions WHERE transaction_id = %s", (ids[currency],)).fetchone()
            for currency in cases
        }
    assert stored == {currency: (expected,) for currency, (_, expected) in cases.items()}
