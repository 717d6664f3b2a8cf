"""The configuration of both entry points, read once from the process environment at start-up.

This is the only module that looks at the environment; everything else receives typed values.
`Settings` is the server's (`python -m fraud_api`), `MigrationSettings` the migration step's
(`python -m fraud_api.migrate`); they share the database variables, so one set of them serves
both. See README.md for every variable, its default and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from fraud_api.api_config import ApiConfig, parse_api_config
from fraud_api.credentials import CredentialsError, DbCredentials
from fraud_api.errors import ConfigurationError
from fraud_scoring import ScoringConfig

# `verify-full` needs the RDS CA bundle inside the image, which it does not carry; `require`
# still encrypts every byte (PCI DSS "encrypted in transit") inside the private subnets.
DEFAULT_SSLMODE = "require"
SSLMODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})
# RDS accepts IAM tokens only over TLS.
ENCRYPTED_SSLMODES = frozenset({"require", "verify-ca", "verify-full"})
AUTH_METHODS = ("iam", "password")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})

AuthMethod = Literal["iam", "password"]
N = TypeVar("N", int, float)


@dataclass(frozen=True)
class DatabaseLogin:
    """Who logs in and how: IAM tokens for `user`, or a password from `credentials`/`secret_arn`."""

    method: AuthMethod
    user: str
    credentials: DbCredentials | None = None
    secret_arn: str | None = None


@dataclass(frozen=True)
class DatabaseSettings:
    host: str
    port: int
    name: str
    sslmode: str
    login: DatabaseLogin
    aws_region: str | None = None
    application_name: str = "fraud-api"
    pool_min_size: int = 2
    pool_max_size: int = 10
    connect_timeout_s: int = 5
    statement_timeout_ms: int = 2000
    pool_wait_timeout_s: float = 2.0


@dataclass(frozen=True)
class ApiConfigSettings:
    """Where the API configuration comes from: the secret by ARN (deployed), or a fixed value."""

    secret_arn: str | None
    fixed: ApiConfig | None
    refresh_interval_s: float = 300.0
    key_overlap_s: float = 3600.0


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    database: DatabaseSettings
    api_config: ApiConfigSettings
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
            database=database_settings(reader, "fraud-api"),
            api_config=_api_config_settings(reader, dev_mode=dev_mode),
            dev_mode=dev_mode,
            aws_region=reader.aws_region(),
            xray_daemon_address=environ.get("AWS_XRAY_DAEMON_ADDRESS") or None,
            log_level=environ.get("LOG_LEVEL", "INFO").upper(),
            shutdown_grace_s=reader.number("SHUTDOWN_GRACE_SECONDS", 20.0, low=0, high=120),
        )
        reader.raise_if_problems()
        return settings


@dataclass(frozen=True)
class MigrationSettings:
    """The migration step: the database as its owner, and the application role to provision."""

    database: DatabaseSettings  # logs in as the owner (the login is `owner`)
    application: DatabaseLogin  # the serving role the step creates or updates
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "MigrationSettings":
        reader = _EnvReader(environ)
        target = database_settings(reader, "fraud-api-migrate")
        owner = _password_login(
            reader, credentials_variable="DB_OWNER_CREDENTIALS", secret_variable="DB_OWNER_SECRET_ARN", user=None
        )
        settings = cls(
            database=replace(
                target,
                login=owner,
                pool_min_size=1,
                pool_max_size=1,
                # Migrations may rewrite tables: no request-sized statement timeout.
                statement_timeout_ms=0,
            ),
            application=target.login,
            log_level=environ.get("LOG_LEVEL", "INFO").upper(),
        )
        if owner.user and owner.user == settings.application.user:
            reader.problems.append("the owner login and DB_USER must be different roles")
        reader.raise_if_problems()
        return settings


class _EnvReader:
    """Parses variables, collecting every problem instead of stopping at the first."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def get(self, name: str) -> str | None:
        return self.environ.get(name) or None

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        return self._bounded(name, default, int, "an integer", low=low, high=high)

    def number(self, name: str, default: float, *, low: float, high: float) -> float:
        return self._bounded(name, default, float, "a number", low=low, high=high)

    def _bounded(self, name: str, default: N, parse: Callable[[str], N], kind: str, *, low: N, high: N) -> N:
        raw = self.environ.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = parse(raw)
        except ValueError:
            self.problems.append(f"{name} must be {kind}, got {raw!r}")
            return default
        if not low <= value <= high:
            self.problems.append(f"{name} must be between {low} and {high}, got {value}")
        return value

    def required(self, name: str) -> str:
        value = self.environ.get(name, "")
        if not value:
            self.problems.append(f"{name} is required")
        return value

    def aws_region(self) -> str | None:
        return self.get("AWS_REGION") or self.get("AWS_DEFAULT_REGION")

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ConfigurationError(self.problems)


def database_settings(reader: _EnvReader, application_name: str) -> DatabaseSettings:
    """The database and the serving role's login (DB_*), shared by both entry points."""
    sslmode = reader.get("DB_SSLMODE") or DEFAULT_SSLMODE
    if sslmode not in SSLMODES:
        reader.problems.append(f"DB_SSLMODE must be one of {sorted(SSLMODES)}, got {sslmode!r}")
    pool_min = reader.integer("DB_POOL_MIN_SIZE", 2, low=0, high=100)
    pool_max = reader.integer("DB_POOL_MAX_SIZE", 10, low=1, high=100)
    if pool_max < pool_min:
        reader.problems.append("DB_POOL_MAX_SIZE must not be below DB_POOL_MIN_SIZE")
    return DatabaseSettings(
        host=reader.required("DB_HOST"),
        port=reader.integer("DB_PORT", 5432, low=1, high=65535),
        name=reader.required("DB_NAME"),
        sslmode=sslmode,
        login=_application_login(reader, sslmode),
        aws_region=reader.aws_region(),
        application_name=application_name,
        pool_min_size=pool_min,
        pool_max_size=pool_max,
        statement_timeout_ms=reader.integer("DB_STATEMENT_TIMEOUT_MS", 2000, low=100, high=60000),
        pool_wait_timeout_s=reader.number("DB_POOL_TIMEOUT_SECONDS", 2.0, low=0.1, high=30),
    )


def _application_login(reader: _EnvReader, sslmode: str) -> DatabaseLogin:
    method = reader.get("DB_AUTH")
    user = reader.get("DB_USER")
    if method not in AUTH_METHODS:
        reader.problems.append(
            f"DB_AUTH must be one of {', '.join(AUTH_METHODS)} (iam when deployed), got {method!r}"
        )
        return DatabaseLogin(method="password", user=user or "")
    if method == "password":
        return _password_login(reader, credentials_variable="DB_CREDENTIALS", secret_variable="DB_SECRET_ARN", user=user)
    for variable in ("DB_CREDENTIALS", "DB_SECRET_ARN"):
        if reader.get(variable):
            reader.problems.append(f"{variable} is for DB_AUTH=password; with DB_AUTH=iam there is no password")
    if not user:
        reader.problems.append("DB_USER is required with DB_AUTH=iam (the database role to log in as)")
    if sslmode not in ENCRYPTED_SSLMODES:
        reader.problems.append(f"DB_AUTH=iam needs DB_SSLMODE require, verify-ca or verify-full, got {sslmode!r}")
    if not reader.aws_region():
        reader.problems.append("AWS_REGION is required with DB_AUTH=iam (tokens are signed for a region)")
    return DatabaseLogin(method="iam", user=user or "")


def _password_login(
    reader: _EnvReader, *, credentials_variable: str, secret_variable: str, user: str | None
) -> DatabaseLogin:
    credentials: DbCredentials | None = None
    raw = reader.get(credentials_variable)
    if raw:
        try:
            credentials = DbCredentials.from_secret_string(raw)
        except CredentialsError as exc:
            reader.problems.append(f"{credentials_variable}: {exc}")
    secret_arn = reader.get(secret_variable)
    if not raw and secret_arn is None:
        reader.problems.append(f"{credentials_variable} or {secret_variable} is required")
    if credentials is not None and user and credentials.username != user:
        reader.problems.append(f"{credentials_variable} logs in as {credentials.username!r}, but DB_USER is {user!r}")
    return DatabaseLogin(
        method="password",
        user=user or (credentials.username if credentials else ""),
        credentials=credentials,
        secret_arn=secret_arn,
    )


def _api_config_settings(reader: _EnvReader, *, dev_mode: bool) -> ApiConfigSettings:
    secret_arn = reader.get("API_CONFIG_SECRET_ARN")
    raw = reader.get("API_CONFIG")
    refresh = reader.number("API_CONFIG_REFRESH_SECONDS", 300.0, low=1, high=900)
    overlap = reader.number("SIGNING_KEY_OVERLAP_SECONDS", 3600.0, low=0, high=86_400)
    fixed: ApiConfig | None = None
    if secret_arn and raw:
        reader.problems.append("set API_CONFIG_SECRET_ARN or API_CONFIG, not both")
    elif raw:
        try:
            fixed = parse_api_config(raw, dev_mode=dev_mode)
        except ConfigurationError as exc:
            reader.problems.extend(exc.problems)
    elif not secret_arn:
        if not dev_mode:
            # Scoring with built-in thresholds in production would silently ignore the tuned
            # ones in the secret; refusing to start makes a wiring mistake visible at deploy.
            reader.problems.append(
                "API_CONFIG_SECRET_ARN (or API_CONFIG) is required (set FRAUD_API_DEV_MODE=1 for built-in defaults)"
            )
        fixed = ApiConfig(signing_key=None, scoring=ScoringConfig.default())
    return ApiConfigSettings(secret_arn=secret_arn, fixed=fixed, refresh_interval_s=refresh, key_overlap_s=overlap)
