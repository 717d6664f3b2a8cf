"""Call the deployed API through its public endpoint, the way its two kinds of consumers do.

`lifecycle smoke <env>` reads the edge layer's outputs (the stage's invoke URL and the API key
ids of the two usage plans), fetches the key values from API Gateway, and checks:

- an ingestion key: a valid `POST /transactions` gets a decision, an invalid body 400;
- an API-client key: fraud-api's health route through API Gateway and the VPC link answers 200;
- no key: 403 on both routes;
- each key on the other plan's route: 429 (its usage plan throttles that route to zero, see
  docs/edge.md; on AWS this is the only proof that the per-method throttle paths work).

Every call is printed with its status and latency; any miss fails the command. The transaction it
posts is a real one, recognisable by its ids (`smoke-...`), stored like any other.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.states import GuardRefusal, StateSummary
from stacks.layers import Layer

if TYPE_CHECKING:
    from lifecycle.operations import Lifecycle

# The edge stack's `api_key_ids` output, one key per usage plan.
INGESTION_CLIENTS = "ingestion_clients"
API_CLIENTS = "api_clients"
TRANSACTIONS_PATH = "/transactions"
# `ANY /api/{proxy+}` reaches fraud-api at the same path (components/edge/rest_api.py).
FRAUD_API_HEALTH_PATH = "/api/health"
# What API Gateway answers a key on the other consumer's route: its plan throttles that route to zero.
OTHER_ROUTE_STATUS = 429
# fraud_scoring.config.Decision: what a scored transaction is answered with.
DECISIONS = ("approve", "review", "decline")
# API Gateway cuts an integration at 29 s; a little more covers the connection.
CALL_TIMEOUT_SECONDS = 35.0


class SmokeFailed(Exception):
    """At least one call missed; the message counts them (each was printed with what it got)."""


@dataclass(frozen=True)
class SmokeCall:
    purpose: str
    method: str
    path: str
    # The usage plan whose key is sent, or None for no key at all.
    key: str | None
    body: dict[str, Any] | None
    expected_status: tuple[int, ...]
    # Returns what is wrong with the decoded JSON answer, or None when it is right.
    check: Callable[[Any], str | None] | None = None


@dataclass(frozen=True)
class SmokeResult:
    call: SmokeCall
    status: int | None
    milliseconds: float
    problem: str | None

    @property
    def passed(self) -> bool:
        return self.problem is None


def smoke_transaction(transaction_id: str) -> dict[str, Any]:
    """A valid transaction (services/fraud_scoring/transaction.schema.json) that says it is a smoke test."""
    return {
        "transaction_id": transaction_id,
        "user_id": "smoke-test",
        # Cents on purpose: the gateway's model checks decimals with `multipleOf` (docs/lifecycle.md, "The commands").
        "amount": 19.99,
        "currency": "USD",
        "merchant_id": "smoke-test",
        "country": "US",
    }


def smoke_calls(*, transaction_id: str) -> list[SmokeCall]:
    valid = smoke_transaction(transaction_id)

    def decided(answer: Any) -> str | None:
        if not isinstance(answer, dict) or answer.get("decision") not in DECISIONS:
            return f"no decision in the answer (expected one of {', '.join(DECISIONS)})"
        if answer.get("transaction_id") != transaction_id:
            return f"the answer is for transaction {answer.get('transaction_id')!r}, not {transaction_id!r}"
        return None

    def healthy(answer: Any) -> str | None:
        return None if isinstance(answer, dict) and answer.get("status") == "ok" else "fraud-api did not report status ok"

    return [
        SmokeCall("a valid transaction is scored", "POST", TRANSACTIONS_PATH, INGESTION_CLIENTS, valid, (200, 201), decided),
        SmokeCall("an invalid body is refused", "POST", TRANSACTIONS_PATH, INGESTION_CLIENTS, {"transaction_id": transaction_id, "amount": -1}, (400,)),
        SmokeCall("no key, no transactions", "POST", TRANSACTIONS_PATH, None, valid, (403,)),
        SmokeCall("fraud-api is healthy through the gateway", "GET", FRAUD_API_HEALTH_PATH, API_CLIENTS, None, (200,), healthy),
        SmokeCall("no key, no fraud-api", "GET", FRAUD_API_HEALTH_PATH, None, None, (403,)),
        SmokeCall("an API-client key cannot post transactions", "POST", TRANSACTIONS_PATH, API_CLIENTS, valid, (OTHER_ROUTE_STATUS,)),
        SmokeCall("an ingestion key cannot reach fraud-api", "GET", FRAUD_API_HEALTH_PATH, INGESTION_CLIENTS, None, (OTHER_ROUTE_STATUS,)),
    ]


def run_calls(
    endpoint_url: str, keys: dict[str, str], calls: list[SmokeCall], *, say: Callable[[str], None], timeout: float = CALL_TIMEOUT_SECONDS
) -> list[SmokeResult]:
    """Make every call (a miss does not stop the rest) and print one line for each."""
    results = []
    for call in calls:
        result = _call(endpoint_url, keys, call, timeout)
        results.append(result)
        key = f"{call.key} key" if call.key else "no key"
        status = "----" if result.status is None else str(result.status)
        verdict = "ok  " if result.passed else "MISS"
        say(f"{verdict} {call.method:<5} {call.path:<14} {key:<22} {status} {result.milliseconds:7.0f} ms  "
            f"{call.purpose}{'' if result.passed else f': {result.problem}'}")
    return results


def _call(endpoint_url: str, keys: dict[str, str], call: SmokeCall, timeout: float) -> SmokeResult:
    headers = {"Accept": "application/json"}
    data = None
    if call.body is not None:
        data = json.dumps(call.body).encode()
        headers["Content-Type"] = "application/json"
    if call.key is not None:
        headers["x-api-key"] = keys[call.key]
    request = urllib.request.Request(endpoint_url.rstrip("/") + call.path, data=data, headers=headers, method=call.method)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the stage's https URL)
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (urllib.error.URLError, OSError) as error:
        return SmokeResult(call, None, (time.perf_counter() - started) * 1000, f"no answer ({getattr(error, 'reason', error)})")
    milliseconds = (time.perf_counter() - started) * 1000
    if status not in call.expected_status:
        expected = " or ".join(str(code) for code in call.expected_status)
        return SmokeResult(call, status, milliseconds, f"expected {expected}, got {status} {raw[:200].decode(errors='replace')!r}")
    if call.check is not None:
        try:
            answer = json.loads(raw)
        except ValueError:
            return SmokeResult(call, status, milliseconds, f"the answer is not JSON: {raw[:200].decode(errors='replace')!r}")
        return SmokeResult(call, status, milliseconds, call.check(answer))
    return SmokeResult(call, status, milliseconds, None)


def endpoint_and_keys(state: StateSummary | None, stack: str, apigateway: Any) -> tuple[str, dict[str, str]]:
    """The stage URL and one key value per usage plan, from the edge layer's outputs and API Gateway."""
    if state is None or not state.deployed:
        raise GuardRefusal(f"{stack} is not deployed: there is no endpoint to call. Deploy the edge layer first.")
    url, key_ids = state.outputs.get("api_endpoint_url"), state.outputs.get("api_key_ids")
    if not url or not isinstance(key_ids, dict) or not {INGESTION_CLIENTS, API_CLIENTS} <= set(key_ids):
        raise GuardRefusal(
            f"{stack}'s state lacks api_endpoint_url or api_key_ids with {INGESTION_CLIENTS} and {API_CLIENTS}: "
            "deploy the edge layer again with this version of the stacks."
        )
    keys = {plan: apigateway.get_api_key(apiKey=key_id, includeValue=True)["value"] for plan, key_id in key_ids.items()}
    return str(url), keys


def smoke(lifecycle: Lifecycle, clients: Any) -> list[SmokeResult]:
    """`lifecycle smoke <env>`."""
    if lifecycle.target.is_emulator:
        raise GuardRefusal(
            "smoke needs AWS: the emulator keeps the API's definition but runs none of its integrations (no Lambda runs, "
            "no VPC link reaches fraud-api), so every call would miss. Run it with --target aws after a deploy."
        )
    stack = lifecycle.stack(Layer.EDGE)
    url, keys = endpoint_and_keys(lifecycle.state(Layer.EDGE), stack, clients.client("apigateway"))
    progress = lifecycle.progress
    progress.section(f"smoke {lifecycle.environment.name}: {url} with a key of each usage plan, each refused on the other route")
    progress.start(stack, "smoke")
    calls = smoke_calls(transaction_id=f"smoke-{uuid.uuid4().hex[:24]}")
    results = run_calls(url, keys, calls, say=progress.note)
    missed = [result for result in results if not result.passed]
    if missed:
        progress.failed(stack, "smoke", detail=f"{len(missed)} of {len(results)} calls missed")
        raise SmokeFailed(f"smoke test of {lifecycle.environment.name}: {len(missed)} of {len(results)} calls missed "
                          f"({'; '.join(result.call.purpose for result in missed)})")
    progress.done(stack, "smoke", detail=f"{len(results)} calls as expected")
    return results
