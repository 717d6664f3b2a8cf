"""The API-config secret, read at run time so a rotation reaches running tasks without a restart.

The secret is `{"signing_key": "...", "scoring": {...}}`, rotated by `services/secret_rotation`
(a new signing key every rotation; the scoring thresholds carried over). Deployed tasks read it
by ARN (`API_CONFIG_SECRET_ARN`) when they start and again every `API_CONFIG_REFRESH_SECONDS`
(5 minutes by default), in the background, so no request waits on Secrets Manager; a change
(rotation or an operator's new thresholds) is in use at most one refresh interval after it.

Overlap: consumers verify the `X-Fraud-Signature` of a response with the key they hold, and
they learn a new key on their own schedule. For `SIGNING_KEY_OVERLAP_SECONDS` (1 hour by
default) after the current version was created, responses also carry
`X-Fraud-Signature-Previous`, the same body signed with the AWSPREVIOUS key, so a consumer
holding either key can verify during the changeover. After that, only the current key signs.

A refresh that fails (Secrets Manager unreachable, a value the service cannot use) keeps the
last good configuration and is retried sooner; it never stops the service, since the key in
hand stays valid for consumers until they have moved on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fraud_api.errors import ConfigurationError
from fraud_scoring import ConfigError, ScoringConfig

log = logging.getLogger(__name__)
CURRENT, PREVIOUS = "AWSCURRENT", "AWSPREVIOUS"
FAILED_REFRESH_RETRY_S = 15.0


@dataclass(frozen=True)
class ApiConfig:
    """One version of the API-config secret as the service uses it."""

    # Signs responses; None only in dev mode (responses are then unsigned).
    signing_key: str | None = field(repr=False)
    scoring: ScoringConfig
    # The AWSPREVIOUS version's key, and when the current version was created (epoch seconds):
    # together they decide whether responses are also signed with the previous key.
    previous_signing_key: str | None = field(default=None, repr=False)
    created_at_s: float | None = None
    version_id: str | None = None


@dataclass(frozen=True)
class SigningKeys:
    current: str | None = field(repr=False)
    previous: str | None = field(default=None, repr=False)


def parse_api_config(text: str, *, dev_mode: bool, source: str = "API_CONFIG") -> ApiConfig:
    """Parse the secret's value; raise ConfigurationError listing every problem.

    Dev mode accepts a missing signing key or scoring section (built-in thresholds, unsigned
    responses); nowhere else, because a task silently scoring with defaults would hide a wiring
    mistake.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError([f"{source} is not JSON ({exc.msg})"]) from None
    if not isinstance(document, dict):
        raise ConfigurationError([f"{source} must be a JSON object"])
    problems: list[str] = []
    signing_key = document.get("signing_key")
    if signing_key is not None and (not isinstance(signing_key, str) or not signing_key):
        problems.append(f"{source}.signing_key must be a non-empty string")
        signing_key = None
    if signing_key is None and not dev_mode:
        problems.append(f"{source}.signing_key is required")
    scoring = ScoringConfig.default()
    mapping = document.get("scoring")
    if mapping is None:
        if not dev_mode:
            problems.append(f"{source}.scoring is required (set FRAUD_API_DEV_MODE=1 for defaults)")
    else:
        try:
            # A partial mapping is fine: keys it leaves out keep the core's defaults.
            scoring = ScoringConfig.from_mapping(mapping)
        except ConfigError as exc:
            problems.extend(f"{source}.scoring: {problem}" for problem in exc.problems)
    if problems:
        raise ConfigurationError(problems)
    return ApiConfig(signing_key=signing_key, scoring=scoring)


ApiConfigFetcher = Callable[[], ApiConfig]


def secrets_manager_api_config(secret_arn: str, region: str | None, *, dev_mode: bool) -> ApiConfigFetcher:
    """A blocking fetcher of the AWSCURRENT version, with the AWSPREVIOUS key beside it.

    The previous version is read once per current version (a rotation changes both), so a
    refresh that finds nothing new costs one GetSecretValue call.
    """
    client: Any = None
    previous_key_of: dict[str, str | None] = {}

    def fetch() -> ApiConfig:
        nonlocal client
        if client is None:
            import boto3  # ~100 ms to import: only processes that read the secret pay it

            client = boto3.client("secretsmanager", region_name=region)
        current = client.get_secret_value(SecretId=secret_arn, VersionStage=CURRENT)
        config = parse_api_config(current["SecretString"], dev_mode=dev_mode, source="API-config secret")
        version = current["VersionId"]
        if version not in previous_key_of:
            previous_key_of.clear()
            previous_key_of[version] = _previous_signing_key(client, secret_arn)
        created = current.get("CreatedDate")
        return ApiConfig(
            signing_key=config.signing_key,
            scoring=config.scoring,
            previous_signing_key=previous_key_of[version],
            created_at_s=created.timestamp() if created is not None else None,
            version_id=version,
        )

    return fetch


def _previous_signing_key(client: Any, secret_arn: str) -> str | None:
    try:
        previous = client.get_secret_value(SecretId=secret_arn, VersionStage=PREVIOUS)
    except client.exceptions.ResourceNotFoundException:
        return None  # never rotated
    try:
        key = json.loads(previous["SecretString"]).get("signing_key")
    except (ValueError, AttributeError):
        return None  # a previous value the service could not use has no key to honour
    return key if isinstance(key, str) and key else None


class ApiConfigSource:
    """The configuration requests use now; refreshed in the background by `refresh_forever`."""

    def __init__(
        self,
        initial: ApiConfig,
        fetch: ApiConfigFetcher | None = None,
        *,
        refresh_interval_s: float = 300.0,
        key_overlap_s: float = 3600.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = initial
        self._fetch = fetch
        self._refresh_interval_s = refresh_interval_s
        self._key_overlap_s = key_overlap_s
        self._wall_clock = wall_clock

    @property
    def current(self) -> ApiConfig:
        return self._config

    def signing_keys(self) -> SigningKeys:
        config = self._config
        in_overlap = (
            config.previous_signing_key is not None
            and config.created_at_s is not None
            and self._wall_clock() - config.created_at_s < self._key_overlap_s
        )
        return SigningKeys(current=config.signing_key, previous=config.previous_signing_key if in_overlap else None)

    async def refresh(self) -> bool:
        """Fetch once; keep the last good configuration on failure. True if it was fetched."""
        if self._fetch is None:
            return True
        try:
            fresh = await asyncio.to_thread(self._fetch)
        except Exception as exc:  # noqa: BLE001 - whatever failed, the key in hand still works
            problems = exc.problems if isinstance(exc, ConfigurationError) else [type(exc).__name__]
            log.error("API config refresh failed; keeping the last good one", extra={"problems": problems})
            return False
        if fresh != self._config:
            log.info("API config changed", extra={"version_id": fresh.version_id})
        self._config = fresh
        return True

    async def refresh_forever(self) -> None:
        """Refresh every interval (sooner after a failure) until cancelled."""
        if self._fetch is None:
            return
        delay = self._refresh_interval_s
        while True:
            await asyncio.sleep(delay)
            fetched = await self.refresh()
            delay = self._refresh_interval_s if fetched else min(self._refresh_interval_s, FAILED_REFRESH_RETRY_S)
