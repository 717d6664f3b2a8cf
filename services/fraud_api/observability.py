"""Per-request observability as a plain ASGI middleware: request id, access log line, X-Ray segment.

A raw ASGI middleware rather than Starlette's BaseHTTPMiddleware, which would add a task and a
memory stream to every request for no benefit here.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fraud_api.logs import ACCESS_LOGGER
from fraud_api.tracing import Tracer

REQUEST_ID_HEADER = b"x-request-id"
TRACE_HEADER = b"x-amzn-trace-id"
# Client-supplied ids are echoed into logs and headers, so only plain tokens are accepted.
_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")

access_log = logging.getLogger(ACCESS_LOGGER)


class RequestObservability:
    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id, trace_header = _request_id_and_trace(scope["headers"])
        scope.setdefault("state", {})["request_id"] = request_id
        segment = self.tracer.begin(scope["method"], scope["path"], trace_header)
        status = 500  # what the client gets if the app raises before responding
        request_id_header = (REQUEST_ID_HEADER, request_id.encode())

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), request_id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            self.tracer.finish(segment, status)
            fields: dict[str, Any] = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "request_id": request_id,
            }
            if segment is not None:
                fields["trace_id"] = segment.trace_id
            access_log.info("request", extra=fields)


def _request_id_and_trace(headers: list[tuple[bytes, bytes]]) -> tuple[str, str | None]:
    request_id: str | None = None
    trace_header: str | None = None
    for name, value in headers:
        if name == REQUEST_ID_HEADER and _VALID_REQUEST_ID.fullmatch(value):
            request_id = value.decode()
        elif name == TRACE_HEADER:
            trace_header = value.decode("latin-1")
    return request_id or uuid.uuid4().hex, trace_header
