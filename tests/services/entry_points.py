"""Both entry points of a transaction behind one interface, for tests that hold them to one contract.

The transaction processor is called as API Gateway calls it (a proxy event, moto behind it); fraud-api
in process, against the real PostgreSQL, serving as its application role.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from tests.services.aws_fixtures import AlertsTopic, FakeLambdaContext, api_gateway_event, table_items
from tests.services.fraud_api.app_database import AppDatabase
from tests.services.fraud_api.inprocess import InProcessClient
from transaction_processor import handler as processor


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    # Each refusal reason; both paths start every one with the field it is about.
    reasons: list[str]

    @property
    def fields(self) -> list[str]:
        return [reason.split(":", 1)[0] for reason in self.reasons]


class EntryPoint(Protocol):
    name: str

    def post(self, body: bytes) -> Answer: ...

    def stored_count(self) -> int: ...

    def stored(self, transaction_id: str) -> Any:
        """What is stored under the id, in the path's own form (compare it with itself only)."""


class ProcessorEntryPoint:
    name = "transaction_processor"

    def __init__(self, topic: AlertsTopic) -> None:
        self.topic = topic
        self.context = FakeLambdaContext()

    def post(self, body: bytes) -> Answer:
        response = processor.handler(api_gateway_event(body.decode(), raw=True), self.context)
        answer = json.loads(response["body"])
        return Answer(response["statusCode"], answer, answer.get("reasons", []))

    def stored_count(self) -> int:
        return len(table_items())

    def stored(self, transaction_id: str) -> Any:
        return [item for item in table_items() if item["transaction_id"]["S"] == transaction_id]

    def alerts(self) -> list[dict[str, Any]]:
        return self.topic.read_alerts()


class FraudApiEntryPoint:
    name = "fraud_api"

    def __init__(self, client: InProcessClient, database: AppDatabase) -> None:
        self.client = client
        self.database = database

    def post(self, body: bytes) -> Answer:
        response = self.client.post("/api/v1/score", content=body, headers={"content-type": "application/json"})
        answer = response.json()
        return Answer(response.status_code, answer, answer.get("errors", []) if response.status_code >= 400 else [])

    def stored_count(self) -> int:
        return self.database.count_transactions()

    def stored(self, transaction_id: str) -> Any:
        return self.client.get(f"/api/v1/transactions/{transaction_id}").json()
