"""Reading deployment settings from environment variables, failing with the variable's name."""

from __future__ import annotations

from collections.abc import Mapping


class SettingsError(RuntimeError):
    """A required setting is missing or malformed: a deployment problem, not a request problem."""


def required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} must be set")
    return value


def positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"environment variable {name} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise SettingsError(f"environment variable {name} must be a positive integer, got {value}")
    return value
