"""JSON responses, signed with the API-config signing key.

The signature lets a consumer behind API Gateway and the ALB verify that a decision was produced
by this service and not altered on the way: `X-Fraud-Signature: sha256=<hex HMAC-SHA256 of the
exact body bytes>`. The body carries the transaction id, so a signed decision cannot be replayed
for another transaction. For a while after a rotation (api_config.py, "Overlap") the same body
is also signed with the previous key in `X-Fraud-Signature-Previous`, so a consumer that has not
picked up the new key yet can still verify.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from fraud_api.api_config import SigningKeys

SIGNATURE_HEADER = "x-fraud-signature"
PREVIOUS_SIGNATURE_HEADER = "x-fraud-signature-previous"


class JsonResponder:
    def __init__(self, signing_keys: Callable[[], SigningKeys]) -> None:
        # A callable, read per response: the keys change when the API config is refreshed.
        self._signing_keys = signing_keys

    def __call__(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        all_headers = dict(headers or {})
        keys = self._signing_keys()
        if keys.current:
            all_headers[SIGNATURE_HEADER] = signature_of(body, keys.current)
        if keys.previous:
            all_headers[PREVIOUS_SIGNATURE_HEADER] = signature_of(body, keys.previous)
        return Response(body, status_code=status, headers=all_headers, media_type="application/json")

    def errors(self, status: int, reasons: list[str], headers: dict[str, str] | None = None) -> Response:
        return self(status, {"errors": reasons}, headers)


def signature_of(body: bytes, signing_key: str) -> str:
    """The header value for `body`; a consumer verifies by computing the same and comparing."""
    return "sha256=" + hmac.new(signing_key.encode(), body, hashlib.sha256).hexdigest()
