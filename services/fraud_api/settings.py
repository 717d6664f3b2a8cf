"""The service's configuration, read once from the process environment at start-up.

This is the only module that looks at the environment; everything else receives typed values.
See README.md for every variable, its default and why.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fraud_api.credentials import CredentialsError, DbCredentials
from fraud_api.errors import ConfigurationError
from fraud_scoring import ConfigError, ScoringConfig

# `verify-full` needs the RDS CA bundle inside the image, which it does not carry; `require`
# still encrypts every byte (PCI DSS "encrypted in transit") inside the private subnets.
DEFAULT_SSLMODE = "require"
SSLMODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class DatabaseSettings:
    host: str
    port: int
    name: str
    sslmode: str
    credentials: DbCredentials | None
    secret_arn: str | None
    pool_min_size: int = 2
    pool_max_size: int = 10
    connect_timeout_s: int = 5
    statement_timeout_ms: int = 2000
    pool_wait_timeout_s: float = 2.0


@dataclass(frozen=True)
class ApiConfig:
    """The API-config secret: {"signing_key": "...", "scoring": {...}}.

    `signing_key` signs score responses (see signing.py); None only in dev mode.
    """

    signing_key: str | None = field(repr=False)
    scoring: ScoringConfig


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    database: DatabaseSettings
    api_config: ApiConfig
    dev_mode: bool
    aws_region: str | None
    xray_daemon_address: str | None
    log_level: str = "INFO"
    shutdown_grace_s: float = 20.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        reader = _EnvReader(environ)
        dev_mode = environ.get("FRAUD_API_DEV_MODE", "").strip().lower() in TRUE_WORDS
        settings = cls(
            host=environ.get("HOST", "0.0.0.0"),
            port=reader.integer("PORT", 8080, low=1, high=65535),
            database=_database_settings(reader, environ),
            api_config=_api_config(reader, environ, dev_mode=dev_mode),
            dev_mode=dev_mode,
            aws_region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None,
            xray_daemon_address=environ.get("AWS_XRAY_DAEMON_ADDRESS") or None,
            log_level=environ.get("LOG_LEVEL", "INFO").upper(),
            shutdown_grace_s=reader.number("SHUTDOWN_GRACE_SECONDS", 20.0, low=0, high=120),
        )
        reader.raise_if_problems()
        return settings


class _EnvReader:
    """Parses variables, collecting every problem instead of stopping at the first."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        raw = self.environ.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{name} must be an integer, got {raw!r}")
            return default
        if not low <= value <= high:
            self.problems.append(f"{name} must be between {low} and {high}, got {value}")
        return value

    def number(self, name: str, default: float, *, low: float, high: float) -> float:
        raw = self.environ.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = float(raw)
        except ValueError:
            self.problems.append(f"{name} must be a number, got {raw!r}")
            return default
        if not low <= value <= high:
            self.problems.append(f"{name} must be between {low} and {high}, got {value}")
        return value

    def required(self, name: str) -> str:
        value = self.environ.get(name, "")
        if not value:
            self.problems.append(f"{name} is required")
        return value

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ConfigurationError(self.problems)


def _database_settings(reader: _EnvReader, environ: Mapping[str, str]) -> DatabaseSettings:
    sslmode = environ.get("DB_SSLMODE") or DEFAULT_SSLMODE
    if sslmode not in SSLMODES:
        reader.problems.append(f"DB_SSLMODE must be one of {sorted(SSLMODES)}, got {sslmode!r}")
    credentials: DbCredentials | None = None
    raw_credentials = environ.get("DB_CREDENTIALS")
    if raw_credentials:
        try:
            credentials = DbCredentials.from_secret_string(raw_credentials)
        except CredentialsError as exc:
            reader.problems.append(f"DB_CREDENTIALS: {exc}")
    secret_arn = environ.get("DB_SECRET_ARN") or None
    if not raw_credentials and secret_arn is None:
        reader.problems.append("DB_CREDENTIALS or DB_SECRET_ARN is required")
    pool_min = reader.integer("DB_POOL_MIN_SIZE", 2, low=0, high=100)
    pool_max = reader.integer("DB_POOL_MAX_SIZE", 10, low=1, high=100)
    if pool_max < pool_min:
        reader.problems.append("DB_POOL_MAX_SIZE must not be below DB_POOL_MIN_SIZE")
    return DatabaseSettings(
        host=reader.required("DB_HOST"),
        port=reader.integer("DB_PORT", 5432, low=1, high=65535),
        name=reader.required("DB_NAME"),
        sslmode=sslmode,
        credentials=credentials,
        secret_arn=secret_arn,
        pool_min_size=pool_min,
        pool_max_size=pool_max,
        statement_timeout_ms=reader.integer("DB_STATEMENT_TIMEOUT_MS", 2000, low=100, high=60000),
        pool_wait_timeout_s=reader.number("DB_POOL_TIMEOUT_SECONDS", 2.0, low=0.1, high=30),
    )


def _api_config(reader: _EnvReader, environ: Mapping[str, str], *, dev_mode: bool) -> ApiConfig:
    raw = environ.get("API_CONFIG")
    if not raw:
        if not dev_mode:
            # Scoring with built-in thresholds in production would silently ignore the tuned
            # ones in the secret; refusing to start makes a wiring mistake visible at deploy.
            reader.problems.append("API_CONFIG is required (set FRAUD_API_DEV_MODE=1 for built-in defaults)")
        return ApiConfig(signing_key=None, scoring=ScoringConfig.default())
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        reader.problems.append(f"API_CONFIG is not JSON ({exc.msg})")
        return ApiConfig(signing_key=None, scoring=ScoringConfig.default())
    if not isinstance(document, dict):
        reader.problems.append("API_CONFIG must be a JSON object")
        return ApiConfig(signing_key=None, scoring=ScoringConfig.default())
    signing_key = document.get("signing_key")
    if signing_key is not None and (not isinstance(signing_key, str) or not signing_key):
        reader.problems.append("API_CONFIG.signing_key must be a non-empty string")
        signing_key = None
    if signing_key is None and not dev_mode:
        reader.problems.append("API_CONFIG.signing_key is required")
    return ApiConfig(signing_key=signing_key, scoring=_scoring_config(reader, document, dev_mode=dev_mode))


def _scoring_config(reader: _EnvReader, document: dict[str, Any], *, dev_mode: bool) -> ScoringConfig:
    mapping = document.get("scoring")
    if mapping is None:
        if not dev_mode:
            reader.problems.append("API_CONFIG.scoring is required (set FRAUD_API_DEV_MODE=1 for defaults)")
        return ScoringConfig.default()
    try:
        # A partial mapping is fine: keys it leaves out keep the core's defaults.
        return ScoringConfig.from_mapping(mapping)
    except ConfigError as exc:
        reader.problems.extend(f"API_CONFIG.scoring: {problem}" for problem in exc.problems)
        return ScoringConfig.default()
