"""`lifecycle smoke` against a real HTTP server on loopback that plays the deployed API: API keys
per usage plan, the gateway's body validation (the very schema file the stage's model is made of),
the transaction processor's decision and fraud-api's health route."""

from __future__ import annotations

import io
import json
import os
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import get_args

import jsonschema
import pytest

from config.environment_variables import read_environments
from config.environments import build_environments
from config.targets import DeploymentTarget
from fraud_scoring.config import Decision
from lifecycle import cli
from lifecycle.operations import Lifecycle
from lifecycle.progress import Progress
from lifecycle.smoke import (
    API_CLIENTS,
    DECISIONS,
    FRAUD_API_HEALTH_PATH,
    INGESTION_CLIENTS,
    TRANSACTIONS_PATH,
    run_calls,
    smoke,
    smoke_calls,
)
from lifecycle.states import GuardRefusal, state_key
from stacks.layers import Layer
from tests.lifecycle.fakes import FakeStateReader
from tests.lifecycle.stubbed_aws import StubbedClients, state_object, state_with_outputs

# Numbers as decimals, as API Gateway's validator reads them: `multipleOf: 0.01` in binary
# floating point would refuse 19.99 (docs/lifecycle.md, "The commands").
SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "services" / "fraud_scoring" / "transaction.schema.json").read_text(), parse_float=Decimal
)
KEYS = {INGESTION_CLIENTS: "ingestion-key-value-0123456789", API_CLIENTS: "client-key-value-9876543210"}
KEY_IDS = {INGESTION_CLIENTS: "ingestkeyid", API_CLIENTS: "clientkeyid"}
STAGE = "/dev"
ROUTE_OF_PLAN = {INGESTION_CLIENTS: ("POST", TRANSACTIONS_PATH), API_CLIENTS: ("GET", FRAUD_API_HEALTH_PATH)}


@dataclass
class PlayedApi:
    """How the played API answers; `received` records every request as (method, path, plan of the key or None)."""

    # As the edge does: each usage plan throttles the other consumer's route to zero.
    separates_keys: bool = True
    health_status: int = 200
    answer_without_decision: bool = False
    received: list[tuple[str, str, str | None]] = field(default_factory=list)

    def answer(self, method: str, path: str, key: str | None, body: bytes) -> tuple[int, dict]:
        plan = next((name for name, value in KEYS.items() if value == key), None)
        route = path.removeprefix(STAGE)
        self.received.append((method, route, plan))
        if (method, route) not in ROUTE_OF_PLAN.values():
            return 403, {"message": "Missing Authentication Token"}  # API Gateway's answer to an unknown route
        if plan is None:
            return 403, {"message": "Forbidden"}
        if self.separates_keys and ROUTE_OF_PLAN[plan] != (method, route):
            return 429, {"message": "Too Many Requests"}
        if route == TRANSACTIONS_PATH:
            try:
                transaction = json.loads(body, parse_float=Decimal)
                jsonschema.Draft4Validator(SCHEMA).validate(transaction)
            except (ValueError, jsonschema.ValidationError):
                return 400, {"message": "Invalid request body"}
            if self.answer_without_decision:
                return 201, {"transaction_id": transaction["transaction_id"]}
            return 201, {"transaction_id": transaction["transaction_id"], "score": 0.12, "decision": "approve", "reasons": []}
        return self.health_status, {"status": "ok"} if self.health_status == 200 else {"detail": "Not Found"}


@pytest.fixture
def api():
    played = PlayedApi()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, answer = played.answer(self.command, self.path, self.headers.get("x-api-key"), body)
            raw = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _serve

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    played.url = f"http://127.0.0.1:{server.server_address[1]}{STAGE}"
    yield played
    server.shutdown()
    server.server_close()


def run(api: PlayedApi) -> tuple[list, list[str]]:
    lines: list[str] = []
    results = run_calls(api.url, KEYS, smoke_calls(transaction_id="smoke-abc"), say=lines.append)
    return results, lines


def test_a_healthy_api_passes_every_call_each_key_on_its_own_route(api):
    results, lines = run(api)
    assert [result.status for result in results] == [201, 400, 403, 200, 403, 429, 429]
    assert all(result.passed for result in results), lines
    # Each key on its own plan's route, then on the other one; the key-less calls carry no key at all.
    assert {(method, path, plan) for method, path, plan in api.received if plan} == {
        ("POST", TRANSACTIONS_PATH, INGESTION_CLIENTS),
        ("GET", FRAUD_API_HEALTH_PATH, API_CLIENTS),
        ("POST", TRANSACTIONS_PATH, API_CLIENTS),
        ("GET", FRAUD_API_HEALTH_PATH, INGESTION_CLIENTS),
    }
    assert sum(1 for *_, plan in api.received if plan is None) == 2
    # One line per call, with its status and latency; never a key's value.
    assert len(lines) == 7 and all(" ms " in line for line in lines)
    assert lines[0].startswith("ok   POST  /transactions  ingestion_clients key  201")
    assert not any(value in line for line in lines for value in KEYS.values())


def test_fraud_api_without_its_health_route_is_a_miss(api):
    api.health_status = 404
    results, lines = run(api)
    assert [result.passed for result in results] == [True, True, True, False, True, True, True]
    assert any(line.startswith("MISS GET   /api/health    api_clients key        404") and "expected 200, got 404" in line for line in lines), lines


def test_an_answer_without_a_decision_is_a_miss(api):
    api.answer_without_decision = True
    results, _ = run(api)
    assert results[0].status == 201 and not results[0].passed
    assert "no decision" in results[0].problem


def test_a_key_let_through_on_the_other_consumers_route_is_a_miss(api):
    api.separates_keys = False
    results, lines = run(api)
    missed = [result.call.purpose for result in results if not result.passed]
    assert missed == ["an API-client key cannot post transactions", "an ingestion key cannot reach fraud-api"], lines


def test_an_unreachable_endpoint_misses_every_call(api):
    results = run_calls("http://127.0.0.1:9/dev", KEYS, smoke_calls(transaction_id="smoke-x"),
                        say=lambda line: None, timeout=2)
    assert all(result.status is None and "no answer" in result.problem for result in results)


def test_the_decisions_are_the_scoring_services_own():
    assert set(DECISIONS) == set(get_args(Decision))


# --- the command: endpoint and keys from the edge layer's state and API Gateway --------------------


def edge_outputs(url: str) -> dict:
    return {"api_endpoint_url": url, "api_key_ids": KEY_IDS, "usage_plan_ids": {INGESTION_CLIENTS: "p1", API_CLIENTS: "p2"}}


def stub_key_values(clients: StubbedClients) -> None:
    apigateway = clients.stub("apigateway")
    for plan, key_id in KEY_IDS.items():
        apigateway.add_response("get_api_key", {"id": key_id, "value": KEYS[plan], "enabled": True}, {"apiKey": key_id, "includeValue": True})


def make_lifecycle(tmp_path, reader: FakeStateReader, target: DeploymentTarget = DeploymentTarget()) -> tuple[Lifecycle, io.StringIO]:
    out = io.StringIO()
    lifecycle = Lifecycle(target=target, environment=build_environments()["dev"], outdir=tmp_path, workdir=tmp_path,
                          reader=reader, progress=Progress(out=out))
    return lifecycle, out


def test_smoke_reads_the_endpoint_and_real_key_values(api, tmp_path):
    clients = StubbedClients()
    stub_key_values(clients)
    lifecycle, out = make_lifecycle(tmp_path, FakeStateReader({state_key("dev", Layer.EDGE): state_with_outputs(edge_outputs(api.url))}))
    results = smoke(lifecycle, clients)
    clients.assert_all_answered()
    assert len(results) == 7 and all(result.passed for result in results)
    assert f"==> smoke dev: {api.url} with a key of each usage plan" in out.getvalue()
    assert [(result.stack, result.action, result.outcome) for result in lifecycle.progress.results] == [("edge-dev", "smoke", "done")]


def test_smoke_refuses_before_the_edge_layer_exists_and_on_the_emulator(tmp_path):
    lifecycle, _ = make_lifecycle(tmp_path, FakeStateReader())
    with pytest.raises(GuardRefusal, match="edge-dev is not deployed"):
        smoke(lifecycle, StubbedClients())
    lifecycle, _ = make_lifecycle(tmp_path, FakeStateReader(), DeploymentTarget(emulator_endpoint="http://127.0.0.1:4566"))
    with pytest.raises(GuardRefusal, match="smoke needs AWS"):
        smoke(lifecycle, StubbedClients())


def test_the_command_exits_non_zero_naming_the_misses(api, tmp_path, monkeypatch, capsys):
    api.health_status = 404
    clients = StubbedClients()
    stub_key_values(clients)
    # What the command line reads: the environment's settings after FRAUD_* (tests/lifecycle/conftest.py).
    (config,) = read_environments({**os.environ, "FRAUD_ENVIRONMENTS": "dev"})
    bucket = config.state.bucket
    clients.stub("s3").add_response("get_object", state_object(state_with_outputs(edge_outputs(api.url))), {"Bucket": bucket, "Key": "dev/edge.tfstate"})
    monkeypatch.setattr(cli, "TargetClients", lambda target, region: clients)
    code = cli.main(["smoke", "dev", "--target", "aws", "--workdir", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == cli.EXIT_FAILED
    assert "MISS GET   /api/health" in captured.out
    assert "1 of 7 calls missed (fraud-api is healthy through the gateway)" in captured.err
