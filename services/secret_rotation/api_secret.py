"""The API configuration secret: `{"signing_key": "<urlsafe base64, >= 32 bytes>", "scoring": {...}}`.

`scoring` is a ScoringConfig mapping (see fraud_scoring.config); other keys are carried over
unchanged by rotation, so the API can keep more configuration in the same secret.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from typing import Any

from fraud_scoring import ConfigError, ScoringConfig

MIN_SIGNING_KEY_BYTES = 32
NEW_SIGNING_KEY_BYTES = 48
_URLSAFE = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class InvalidSecretError(ValueError):
    """The secret value cannot be used by the API; the message lists every problem."""


def new_signing_key() -> str:
    return secrets.token_urlsafe(NEW_SIGNING_KEY_BYTES)


def rotated(current_text: str) -> str:
    """The next secret value: the current document with a fresh signing key."""
    document = _json_object(current_text, "current secret value", not_json_hint="; fix it before rotating")
    document.setdefault("scoring", ScoringConfig.default().to_mapping())
    document["signing_key"] = new_signing_key()
    return json.dumps(document, sort_keys=True)


def validate(text: str) -> dict[str, Any]:
    """Parse and check a secret value as the API will use it; raise InvalidSecretError if unusable."""
    document = _json_object(text, "secret value")

    problems = []
    key = document.get("signing_key")
    if not isinstance(key, str):
        problems.append("signing_key: is required and must be a string")
    elif signing_key_bytes(key) < MIN_SIGNING_KEY_BYTES:
        problems.append(f"signing_key: must be URL-safe base64 of at least {MIN_SIGNING_KEY_BYTES} random bytes")
    if "scoring" not in document:
        problems.append("scoring: is required (a scoring configuration object)")
    else:
        try:
            ScoringConfig.from_mapping(document["scoring"])
        except ConfigError as error:
            problems += [f"scoring: {problem}" for problem in error.problems]
    if problems:
        raise InvalidSecretError("; ".join(problems))
    return document


def signing_key_bytes(key: str) -> int:
    """How many bytes the key encodes, 0 when it is not URL-safe base64."""
    if not _URLSAFE.fullmatch(key):
        return 0
    try:
        return len(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))
    except (binascii.Error, ValueError):
        return 0


def _json_object(text: str, what: str, *, not_json_hint: str = "") -> dict[str, Any]:
    """`text` parsed, when it is a JSON object; else InvalidSecretError naming `what` it was."""
    try:
        document = json.loads(text)
    except ValueError:
        raise InvalidSecretError(f"{what} is not JSON{not_json_hint}") from None
    if not isinstance(document, dict):
        raise InvalidSecretError(f"{what} must be a JSON object")
    return document
