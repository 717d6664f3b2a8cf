"""API Gateway REST proxy responses and request bodies."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fraud_scoring.validation import DEFAULT_MAX_BODY_BYTES, ValidationError

_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"statusCode": status, "headers": {**_HEADERS, **(headers or {})}, "body": json.dumps(body, sort_keys=True)}


def raw_body(event: dict[str, Any]) -> str | bytes | None:
    body = event.get("body")
    if body is None or not event.get("isBase64Encoded"):
        return body
    # Bound the work before decoding: base64 inflates by 4/3.
    if len(body) > DEFAULT_MAX_BODY_BYTES * 4 // 3 + 4:
        raise ValidationError([f"body: must be at most {DEFAULT_MAX_BODY_BYTES} bytes"])
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(["body: is marked base64-encoded but is not valid base64"]) from None
