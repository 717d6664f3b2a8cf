"""State locks: who holds a layer's lock, since when, and when it may be removed.

The stacks lock their state with S3's native lock file (`use_lockfile`): while Terraform runs,
an object `<state key>.tflock` sits next to the state, holding the lock's id, the operation, who
took it and when. A run that dies without releasing it (killed, its CI runner gone) leaves it
behind, and every later run waits `-lock-timeout` and fails. The lifecycle reads the object
to show the lock (`status`), names it when a run fails on it, and removes it only through
`terraform force-unlock` with the id it read (`unlock`), which refuses a lock younger than
`STALE_AFTER` unless forced: a young lock most likely belongs to a run that is still going.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# Longer than the slowest legitimate step: a network teardown on AWS waits up to ~45 minutes for
# the network interfaces of VPC Lambdas to be released.
STALE_AFTER = timedelta(hours=1)
LOCK_SUFFIX = ".tflock"


def lock_key(state_key: str) -> str:
    return state_key + LOCK_SUFFIX


@dataclass(frozen=True)
class StateLock:
    id: str
    operation: str
    who: str
    created: datetime
    path: str = ""
    version: str = ""

    @classmethod
    def parse(cls, document: dict[str, Any]) -> StateLock:
        return cls(
            id=str(document.get("ID", "")),
            operation=str(document.get("Operation", "")).removeprefix("OperationType").lower() or "unknown operation",
            who=str(document.get("Who", "")) or "unknown",
            created=_timestamp(document.get("Created")),
            path=str(document.get("Path", "")),
            version=str(document.get("Version", "")),
        )

    def age(self, now: datetime) -> timedelta:
        return now - self.created

    def is_stale(self, now: datetime) -> bool:
        return self.age(now) >= STALE_AFTER

    def describe(self, now: datetime) -> str:
        """`held by ci@runner for apply since 2026-12-02 07:19:49 UTC (12 min ago), lock id 8f62...`"""
        since = self.created.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"held by {self.who} for {self.operation} since {since} ({_age_text(self.age(now))} ago), lock id {self.id}"


def _age_text(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _timestamp(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    # An unreadable time counts as old: the lock can still be removed, and says it is of unknown age.
    return datetime.fromtimestamp(0, UTC)
