"""The three endpoints in-process against the real PostgreSQL: the contract clients rely on."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from fraud_api.responses import signature_of
from tests.services.fraud_api.app_database import SIGNING_KEY, AppDatabase
from tests.services.fraud_api.inprocess import InProcessClient
from tests.services.fraud_api.payloads import BASE_TIMESTAMP_MS, transaction, unique_id


def test_health_reports_ok_when_the_database_answers(client: InProcessClient) -> None:
    response = client.get("/health")

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
    assert stored == (payload["user_id"], "42.5", body["score"], body["decision"])


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
    for i in range(4):
        client.post("/api/v1/score", json=transaction(user_id=user, timestamp=BASE_TIMESTAMP_MS + i * 1000, amount=20))

    burst = client.post(
        "/api/v1/score", json=transaction(user_id=user, timestamp=BASE_TIMESTAMP_MS + 5000, amount=400)
    ).json()

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
    with shared_database.admin() as conn:
        rows = conn.execute(
            "SELECT count(*) FROM transactions WHERE transaction_id = %s", (payload["transaction_id"],)
        ).fetchone()
    assert rows == (1,)


def test_a_replay_with_other_content_returns_the_stored_result_and_changes_nothing(
    client: InProcessClient, shared_database: AppDatabase
) -> None:
    payload = transaction(amount=10)
    original = client.post("/api/v1/score", json=payload).json()

    replay = client.post("/api/v1/score", json={**payload, "amount": 90_000, "country": "KP"})

    assert replay.status_code == 200
    assert replay.json() == original
    assert client.get(f"/api/v1/transactions/{payload['transaction_id']}").json()["amount"] == 10


def test_concurrent_duplicates_store_one_row_and_agree(client: InProcessClient, shared_database: AppDatabase) -> None:
    payload = transaction()

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: client.post("/api/v1/score", json=payload), range(6)))

    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({r.content for r in responses}) == 1
    with shared_database.admin() as conn:
        rows = conn.execute(
            "SELECT count(*) FROM transactions WHERE transaction_id = %s", (payload["transaction_id"],)
        ).fetchone()
    assert rows == (1,)


def test_a_transaction_without_timestamp_is_stored_at_arrival(client: InProcessClient) -> None:
    payload = transaction(timestamp=...)

    client.post("/api/v1/score", json=payload)
    stored = client.get(f"/api/v1/transactions/{payload['transaction_id']}").json()

    assert stored["timestamp"] > BASE_TIMESTAMP_MS


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


def test_amounts_keep_their_exact_decimal_value(client: InProcessClient, shared_database: AppDatabase) -> None:
    payload = transaction()
    raw = json.dumps(payload).replace('"amount": 42.5', '"amount": 0.1000000000000000055511151231257827')

    client.post("/api/v1/score", content=raw, headers={"content-type": "application/json"})

    with shared_database.admin() as conn:
        stored = conn.execute(
            "SELECT amount::text FROM transactions WHERE transaction_id = %s", (payload["transaction_id"],)
        ).fetchone()
    assert stored == ("0.1000000000000000055511151231257827",)
