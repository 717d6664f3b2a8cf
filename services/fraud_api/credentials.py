"""Database credentials and their refresh after a Secrets Manager rotation.

ECS injects the RDS-managed secret into `DB_CREDENTIALS` once, when the task starts. The secret
rotates every 30 days, after which new connections with the injected password fail. The store
keeps the credentials the pool connects with and, on an authentication failure, re-reads the
secret by ARN, so a running task survives rotation without a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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
