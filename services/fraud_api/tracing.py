"""X-Ray tracing: one segment per sampled request, sent over UDP to the daemon sidecar.

A minimal emitter instead of aws-xray-sdk: the SDK patches libraries, keeps thread-local
recorder state that does not follow asyncio tasks, and costs more per request than the whole
segment this needs. Sending is one non-blocking `sendto` to the sidecar on localhost; a lost
datagram loses a trace, never a request.

Without AWS_XRAY_DAEMON_ADDRESS (tests, local runs) the tracer is `NullTracer`, and `span()`
returns a shared no-op context manager, so untraced requests pay one context-variable read.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import random
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

_DAEMON_HEADER = b'{"format": "json", "version": 1}\n'
# The header comes from outside; ids that do not look like X-Ray's are ignored, not forwarded.
_TRACE_ID = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}")
_SEGMENT_ID = re.compile(r"[0-9a-f]{16}")
SERVICE_NAME = "fraud-api"


@dataclass
class Segment:
    trace_id: str
    segment_id: str
    parent_id: str | None
    method: str
    path: str
    start_time: float = field(default_factory=time.time)
    subsegments: list[dict[str, Any]] = field(default_factory=list)

    def document(self, status: int, end_time: float) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": SERVICE_NAME,
            "id": self.segment_id,
            "trace_id": self.trace_id,
            "start_time": self.start_time,
            "end_time": end_time,
            "http": {"request": {"method": self.method, "url": self.path}, "response": {"status": status}},
        }
        if self.parent_id:
            doc["parent_id"] = self.parent_id
        if 400 <= status < 500:
            doc["error"] = True
        elif status >= 500:
            doc["fault"] = True
        if self.subsegments:
            doc["subsegments"] = self.subsegments
        return doc


_current: contextvars.ContextVar[Segment | None] = contextvars.ContextVar("fraud_api_segment", default=None)
_NO_SPAN = contextlib.nullcontext()


def span(name: str) -> contextlib.AbstractContextManager[Any]:
    """Time a step of the current request as a subsegment (a no-op when it is not traced)."""
    segment = _current.get()
    if segment is None:
        return _NO_SPAN
    return _recorded_span(segment, name)


@contextlib.contextmanager
def _recorded_span(segment: Segment, name: str) -> Iterator[None]:
    start = time.time()
    failed = False
    try:
        yield
    except BaseException:
        failed = True
        raise
    finally:
        sub: dict[str, Any] = {
            "id": _new_id(),
            "name": name,
            "start_time": start,
            "end_time": time.time(),
            "namespace": "remote",
        }
        if failed:
            sub["fault"] = True
        segment.subsegments.append(sub)


class Tracer(Protocol):
    def begin(self, method: str, path: str, trace_header: str | None) -> Segment | None: ...

    def finish(self, segment: Segment | None, status: int) -> None: ...


class NullTracer:
    def begin(self, method: str, path: str, trace_header: str | None) -> Segment | None:
        return None

    def finish(self, segment: Segment | None, status: int) -> None:
        return None


class XRayUdpTracer:
    """Samples like X-Ray's default rule unless the caller decided: 1 request/s, then 5%."""

    def __init__(self, daemon_address: str, *, fixed_rate: float = 0.05, reservoir_per_second: int = 1) -> None:
        self._address = parse_daemon_address(daemon_address)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        self._fixed_rate = fixed_rate
        self._reservoir = reservoir_per_second
        self._reservoir_second = 0
        self._reservoir_used = 0
        self._lock = threading.Lock()

    def begin(self, method: str, path: str, trace_header: str | None) -> Segment | None:
        header = parse_trace_header(trace_header)
        sampled = header.get("Sampled")
        if sampled == "0" or (sampled != "1" and not self._sample_locally()):
            return None
        root, parent = header.get("Root", ""), header.get("Parent", "")
        has_root = bool(_TRACE_ID.fullmatch(root))
        segment = Segment(
            trace_id=root if has_root else new_trace_id(),
            segment_id=_new_id(),
            parent_id=parent if has_root and _SEGMENT_ID.fullmatch(parent) else None,
            method=method,
            path=path,
        )
        _current.set(segment)
        return segment

    def finish(self, segment: Segment | None, status: int) -> None:
        if segment is None:
            return
        _current.set(None)
        payload = _DAEMON_HEADER + json.dumps(segment.document(status, time.time()), separators=(",", ":")).encode()
        try:
            self._socket.sendto(payload, self._address)
        except OSError:
            pass  # daemon absent or its buffer full: tracing is best effort by design

    def close(self) -> None:
        self._socket.close()

    def _sample_locally(self) -> bool:
        second = int(time.time())
        with self._lock:
            if second != self._reservoir_second:
                self._reservoir_second, self._reservoir_used = second, 0
            if self._reservoir_used < self._reservoir:
                self._reservoir_used += 1
                return True
        return random.random() < self._fixed_rate


def tracer_for(daemon_address: str | None) -> Tracer:
    return XRayUdpTracer(daemon_address) if daemon_address else NullTracer()


def parse_daemon_address(value: str) -> tuple[str, int]:
    """`host:port`, or the SDK's `tcp:host:port udp:host:port` form (UDP is what segments use)."""
    chosen = value.strip()
    for part in chosen.split():
        if part.startswith("udp:"):
            chosen = part[len("udp:"):]
    host, _, port = chosen.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"AWS_XRAY_DAEMON_ADDRESS must look like host:port, got {value!r}")
    return host, int(port)


def parse_trace_header(value: str | None) -> dict[str, str]:
    if not value:
        return {}
    fields: dict[str, str] = {}
    for part in value.split(";"):
        key, sep, item = part.strip().partition("=")
        if sep:
            fields[key] = item
    return fields


def new_trace_id() -> str:
    return f"1-{int(time.time()):08x}-{os.urandom(12).hex()}"


def _new_id() -> str:
    return os.urandom(8).hex()
