"""JSON responses, signed with the API-config signing key.

The signature lets a consumer behind API Gateway and the ALB verify that a decision was produced
by this service and not altered on the way: `X-Fraud-Signature: sha256=<hex HMAC-SHA256 of the
exact body bytes>`. The body carries the transaction id, so a signed decision cannot be replayed
for another transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from starlette.responses import Response

SIGNATURE_HEADER = "x-fraud-signature"


class JsonResponder:
    def __init__(self, signing_key: str | None) -> None:
        self._key = signing_key

    def __call__(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        all_headers = dict(headers or {})
        if self._key:
            all_headers[SIGNATURE_HEADER] = signature_of(body, self._key)
        return Response(body, status_code=status, headers=all_headers, media_type="application/json")

    def errors(self, status: int, reasons: list[str], headers: dict[str, str] | None = None) -> Response:
        return self(status, {"errors": reasons}, headers)


def signature_of(body: bytes, signing_key: str) -> str:
    """The header value for `body`; a consumer verifies by computing the same and comparing."""
    return "sha256=" + hmac.new(signing_key.encode(), body, hashlib.sha256).hexdigest()
