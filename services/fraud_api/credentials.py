"""How the service logs in to PostgreSQL: an IAM token per connection, or a password.

`DB_AUTH=iam` (deployed): every new connection logs in as `DB_USER` with a fresh IAM
authentication token, signed locally with the task role's credentials (no network call, valid
15 minutes, only for logging in). There is no password anywhere, so nothing to rotate or leak;
the task role's `rds-db:connect` permission on that one database user is the whole grant.

`DB_AUTH=password` (local runs and tests; or a dedicated, rotated secret): the credentials come
from `DB_CREDENTIALS` and/or the secret `DB_SECRET_ARN`. After a rotation, new logins with the
old password fail; the store then re-reads the secret by ARN, so a running process survives
rotation without a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


class CredentialsError(ValueError):
    """A secret value that is not a usable {"username", "password"} document."""


@dataclass(frozen=True)
class DbCredentials:
    username: str
    password: str = field(repr=False)

    @classmethod
    def from_secret_string(cls, secret_string: str) -> "DbCredentials":
        try:
            document = json.loads(secret_string)
        except json.JSONDecodeError as exc:
            raise CredentialsError(f"database secret is not JSON ({exc.msg})") from None
        if not isinstance(document, dict):
            raise CredentialsError("database secret is not a JSON object")
        username, password = document.get("username"), document.get("password")
        if not isinstance(username, str) or not username:
            raise CredentialsError("database secret has no 'username'")
        if not isinstance(password, str) or not password:
            raise CredentialsError("database secret has no 'password'")
        return cls(username=username, password=password)


CredentialsFetcher = Callable[[], DbCredentials]


class Login(Protocol):
    """What each new pooled connection logs in with."""

    async def credentials(self) -> DbCredentials:
        """The credentials for the next login."""

    async def after_rejection(self, rejected: DbCredentials) -> DbCredentials | None:
        """Other credentials to retry a rejected login with once, or None to give up."""

log = logging.getLogger(__name__)


def secrets_manager_fetcher(secret_arn: str, region: str | None) -> CredentialsFetcher:
    """A blocking fetcher that reads the current version of the secret."""
    client: Any = None

    def fetch() -> DbCredentials:
        nonlocal client
        if client is None:
            # boto3 costs ~100 ms to import; only pay it when a rotation actually happens.
            import boto3

            client = boto3.client("secretsmanager", region_name=region)
        response = client.get_secret_value(SecretId=secret_arn)
        return DbCredentials.from_secret_string(response["SecretString"])

    return fetch


class CredentialStore:
    """The credentials new connections use, refreshed from the secret on demand.

    Refreshes are serialised and rate-limited: when a whole pool reconnects at once, one
    Secrets Manager call serves all of it, and a genuinely wrong password cannot turn every
    reconnect attempt into an API call.
    """

    def __init__(
        self,
        initial: DbCredentials,
        fetcher: CredentialsFetcher | None,
        *,
        min_refresh_interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._current = initial
        self._fetcher = fetcher
        self._min_interval = min_refresh_interval_s
        self._clock = clock
        self._last_refresh: float | None = None
        self._lock = asyncio.Lock()

    @property
    def current(self) -> DbCredentials:
        return self._current

    @property
    def can_refresh(self) -> bool:
        return self._fetcher is not None

    async def credentials(self) -> DbCredentials:
        return self._current

    async def after_rejection(self, rejected: DbCredentials) -> DbCredentials | None:
        if not self.can_refresh:
            return None
        refreshed = await self.refresh(rejected)
        return None if refreshed == rejected else refreshed

    async def refresh(self, rejected: DbCredentials) -> DbCredentials:
        """Return credentials newer than `rejected`, fetching them if nobody has yet."""
        if self._fetcher is None:
            return self._current
        async with self._lock:
            if self._current != rejected:
                return self._current  # another connection attempt already refreshed them
            now = self._clock()
            if self._last_refresh is not None and now - self._last_refresh < self._min_interval:
                return self._current
            self._last_refresh = now
            self._current = await asyncio.to_thread(self._fetcher)
            log.warning(
                "database login rejected; re-read credentials from the secret",
                extra={"username": self._current.username, "changed": self._current != rejected},
            )
            return self._current


class IamTokenLogin:
    """Logs in as `user` with an RDS IAM authentication token, a new one per connection."""

    def __init__(self, *, host: str, port: int, user: str, region: str, rds_client: Any = None) -> None:
        if rds_client is None:
            import boto3

            rds_client = boto3.client("rds", region_name=region)
        self._client = rds_client
        self._host, self._port, self._user, self._region = host, port, user, region

    async def credentials(self) -> DbCredentials:
        # Signing is local, but the first call (and each credential refresh) fetches the task
        # role's credentials from the ECS agent: off the event loop.
        token = await asyncio.to_thread(
            self._client.generate_db_auth_token,
            DBHostname=self._host,
            Port=self._port,
            DBUsername=self._user,
            Region=self._region,
        )
        return DbCredentials(username=self._user, password=token)

    async def after_rejection(self, rejected: DbCredentials) -> DbCredentials | None:
        # A fresh token would be rejected for the same reason (no rds_iam grant, no permission).
        return None
