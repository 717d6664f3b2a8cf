"""Reading the score request's body: media type, size cap, then the core's JSON and field rules."""

from __future__ import annotations

from starlette.requests import Request

from fraud_scoring import Transaction, parse_json_body, parse_transaction

MAX_BODY_BYTES = 16_384  # the same cap the Lambda applies, so both paths accept the same requests


class RejectedRequest(Exception):
    """A request refused before validation of its fields, with the HTTP status that says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reasons = [reason]


def require_json_content_type(request: Request) -> None:
    media_type, _, parameters = request.headers.get("content-type", "").partition(";")
    if media_type.strip().lower() != "application/json":
        raise RejectedRequest(415, "content-type: must be application/json")
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise RejectedRequest(415, "content-type: charset must be utf-8")


async def read_capped_body(request: Request, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, refusing to buffer more than `max_bytes` whatever Content-Length claims."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RejectedRequest(400, "content-length: must be a non-negative integer")
        if int(declared) > max_bytes:
            raise RejectedRequest(413, f"body: must be at most {max_bytes} bytes, got {int(declared)}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise RejectedRequest(413, f"body: must be at most {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def transaction_from(request: Request) -> Transaction:
    """Raises RejectedRequest or fraud_scoring.ValidationError, both carrying `.reasons`."""
    require_json_content_type(request)
    raw = await read_capped_body(request)
    return parse_transaction(parse_json_body(raw, max_bytes=MAX_BODY_BYTES))
