"""The three endpoints. Each handler maps HTTP to a TransactionService call and back."""

from __future__ import annotations

import logging
import re

import psycopg
from psycopg_pool import PoolTimeout
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fraud_api.body import RejectedRequest, transaction_from
from fraud_api.responses import JsonResponder
from fraud_api.service import TransactionService
from fraud_scoring import ReplayConflict, ValidationError

HEALTH_TIMEOUT_S = 1.0
# transaction.schema.json's rule for transaction_id (a test keeps the two in agreement).
TRANSACTION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Database trouble is the client's cue to retry shortly, not a bug in its request.
DATABASE_UNAVAILABLE = (psycopg.OperationalError, PoolTimeout)
RETRY_AFTER = {"retry-after": "1"}

log = logging.getLogger(__name__)


def _service(request: Request) -> TransactionService:
    return request.state.service  # type: ignore[no-any-return]


def _respond(request: Request) -> JsonResponder:
    return request.state.respond  # type: ignore[no-any-return]


async def health(request: Request) -> Response:
    respond = _respond(request)
    try:
        await _service(request).check_database(HEALTH_TIMEOUT_S)
    except (TimeoutError, *DATABASE_UNAVAILABLE) as exc:
        log.warning("health check failed", extra={"error": type(exc).__name__})
        return respond(503, {"status": "unavailable", "reason": f"database: {_describe(exc)}"})
    return respond(200, {"status": "ok"})


async def score(request: Request) -> Response:
    respond = _respond(request)
    try:
        txn = await transaction_from(request)
    except (RejectedRequest, ValidationError) as rejected:
        status = rejected.status if isinstance(rejected, RejectedRequest) else 400
        return respond.errors(status, rejected.reasons)
    try:
        outcome = await _service(request).score(txn)
    except ValidationError as refused:  # the timestamp window: the clock is the service's
        return respond.errors(400, refused.reasons)
    except ReplayConflict as conflict:
        return respond.errors(409, conflict.reasons)
    except DATABASE_UNAVAILABLE as exc:
        log.error("scoring failed: database unavailable", extra={"error": _describe(exc), "request_id": request.state.request_id})
        return respond.errors(503, ["database: unavailable, retry shortly"], RETRY_AFTER)
    return respond(
        201 if outcome.created else 200,
        {
            "transaction_id": txn.transaction_id,
            "score": outcome.result.score,
            "decision": outcome.result.decision,
            "reasons": list(outcome.result.reasons),
        },
    )


async def get_transaction(request: Request) -> Response:
    respond = _respond(request)
    transaction_id = request.path_params["transaction_id"]
    if not TRANSACTION_ID.fullmatch(transaction_id):
        return respond.errors(400, ["transaction_id: must be 1-64 characters from A-Z a-z 0-9 _ -"])
    try:
        record = await _service(request).find(transaction_id)
    except DATABASE_UNAVAILABLE as exc:
        log.error("lookup failed: database unavailable", extra={"error": _describe(exc), "request_id": request.state.request_id})
        return respond.errors(503, ["database: unavailable, retry shortly"], RETRY_AFTER)
    if record is None:
        return respond.errors(404, [f"transaction {transaction_id} not found"])
    return respond(200, record)


def _describe(exc: BaseException) -> str:
    # Class names only: driver messages can carry host names and user names.
    if isinstance(exc, TimeoutError):
        return f"no answer within {HEALTH_TIMEOUT_S:g}s"
    return type(exc).__name__


ROUTES = [
    # `/health` for the load balancers' checks; `/api/health` for callers through API Gateway,
    # which forwards only `/api/*` to the service.
    Route("/health", health, methods=["GET"]),
    Route("/api/health", health, methods=["GET"]),
    Route("/api/v1/score", score, methods=["POST"]),
    Route("/api/v1/transactions/{transaction_id}", get_transaction, methods=["GET"]),
]
