"""The emulator answers an SDK's retry of a call that already succeeded with that call's answer, instead of carrying it out again.

Why (docs/lifecycle.md, "An EC2 call carried out twice"): under the load of the test run, the AWS
provider's HTTP client now and then drops a connection after the emulator's whole answer has
reached it. A packet capture shows the client acknowledging every byte of the answer and then
resetting the connection without reading it. Its SDK then sends the call again, as the AWS SDKs
do with a call whose answer they never read, under the same `amz-sdk-invocation-id` with
`amz-sdk-request: attempt=2`. A call that creates or removes something (CreateSubnet,
AuthorizeSecurityGroupIngress, RevokeSecurityGroupEgress) is then refused as a duplicate, a
conflict or not found, and a deploy with nothing wrong in it fails.

So a successful (2xx) answer to a call that may change something is kept under its invocation id
for a while, and a later attempt of the same invocation gets that answer back. A retry after an
error the client did read (a 5xx, a throttling 4xx) is carried out again, as the SDK meant. A retry
that arrives while the first attempt is still running waits for it. GET and HEAD change nothing
and pass straight through.
"""

from __future__ import annotations

import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Enough for every call of a deploy's retry window (the provider's SDK retries within seconds);
# the oldest are forgotten first.
REMEMBERED_CALLS = 2048
# Larger answers are not kept (none of the calls that create or remove something answers with as much).
LARGEST_KEPT_ANSWER_BYTES = 1 << 20
# How long a retry waits for the first attempt still being carried out.
FIRST_ATTEMPT_WAIT_SECONDS = 120.0
_UNCHANGING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ATTEMPT = re.compile(r"attempt=(\d+)")


@dataclass(frozen=True)
class _Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class _Call:
    done: threading.Event = field(default_factory=threading.Event)
    answer: _Answer | None = None  # kept only when it succeeded


class RetriedCallReplay:
    """WSGI middleware in front of moto's application."""

    def __init__(self, app: WSGIApp, log: TextIO = sys.stderr, remembered: int = REMEMBERED_CALLS) -> None:
        self._app = app
        self._log = log
        self._remembered = remembered
        self._calls: OrderedDict[str, _Call] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
        if not invocation or environ.get("REQUEST_METHOD", "GET") in _UNCHANGING_METHODS:
            return self._app(environ, start_response)
        attempt = _attempt(environ.get("HTTP_AMZ_SDK_REQUEST", ""))
        if attempt > 1:
            with self._lock:
                earlier = self._calls.get(invocation)
            if earlier is not None and earlier.done.wait(FIRST_ATTEMPT_WAIT_SECONDS) and earlier.answer is not None:
                self._log.write(
                    f"emulator: attempt {attempt} of {_describe(environ)} (invocation {invocation}) answered with the earlier attempt's "
                    f"{earlier.answer.status.split()[0]}, not carried out again: the client had not read that answer\n"
                )
                self._log.flush()
                start_response(earlier.answer.status, list(earlier.answer.headers))
                return [earlier.answer.body]
        return self._carry_out(invocation, environ, start_response)

    def _carry_out(self, invocation: str, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        call = _Call()
        with self._lock:
            self._calls[invocation] = call
            self._calls.move_to_end(invocation)
            while len(self._calls) > self._remembered:
                self._calls.popitem(last=False)
        started: list[tuple[str, list[tuple[str, str]]]] = []
        written: list[bytes] = []

        def record_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [(status, headers)]
            return written.append

        try:
            answer = self._app(environ, record_start)
            try:
                body = b"".join(written) + b"".join(answer)
            finally:
                if hasattr(answer, "close"):
                    answer.close()
            status, headers = started[0]
            if status.startswith("2") and len(body) <= LARGEST_KEPT_ANSWER_BYTES:
                call.answer = _Answer(status, list(headers), body)
        finally:
            call.done.set()
        start_response(status, headers)
        return [body]


def _attempt(request_header: str) -> int:
    match = _ATTEMPT.search(request_header)
    return int(match.group(1)) if match else 1


def _describe(environ: dict[str, Any]) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    return f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO', '/')}" + (f" ({target})" if target else "")
