"""A value loaded lazily once and kept for a while: how the Lambdas hold their configuration.

Loading on first use (not at import) keeps a missing or broken parameter from failing the
container's init phase, where the error is harder to see; the TTL lets an operator's change
reach warm containers without a redeploy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TtlCache(Generic[T]):
    def __init__(self, load: Callable[[], T], ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds}")
        self._load = load
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._value: T | None = None
        self._loaded_at: float | None = None
        self.loads = 0  # how often `load` ran; the benchmark and tests assert on it

    def get(self) -> T:
        with self._lock:
            now = self._clock()
            if self._loaded_at is None or now - self._loaded_at >= self._ttl:
                self._value = self._load()
                self._loaded_at = now
                self.loads += 1
            return self._value  # type: ignore[return-value]

    def invalidate(self) -> None:
        with self._lock:
            self._value = None
            self._loaded_at = None
