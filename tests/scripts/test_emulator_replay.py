"""scripts/emulator_replay.py: an SDK's retry of a call that succeeded gets that answer back; anything else is carried out."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest

from scripts.emulator_replay import RetriedCallReplay

INVOCATION = "0f6a3c1e-5d2b-4e8f-9a7c-2b1d3e4f5a6b"


class CountingApp:
    """A WSGI application that answers each call with its number, and the status it is told to."""

    def __init__(self, status: str = "200 OK") -> None:
        self.status = status
        self.calls = 0
        self.release = threading.Event()
        self.release.set()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.calls += 1
        number = self.calls
        self.release.wait(5)
        start_response(self.status, [("Content-Type", "text/plain")])
        return [f"call {number}".encode()]


def _call(replay: RetriedCallReplay, attempt: int | None = 1, method: str = "POST", invocation: str | None = INVOCATION) -> tuple[str, bytes]:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": "/"}
    if invocation:
        environ["HTTP_AMZ_SDK_INVOCATION_ID"] = invocation
    if attempt:
        environ["HTTP_AMZ_SDK_REQUEST"] = f"attempt={attempt}; max=25"
    started: list[str] = []
    body = b"".join(replay(environ, lambda status, headers, exc_info=None: started.append(status)))
    return started[0], body


def test_a_retry_of_a_call_that_succeeded_gets_its_answer_and_is_not_carried_out_again():
    app, log = CountingApp(), io.StringIO()
    replay = RetriedCallReplay(app, log=log)
    assert _call(replay, attempt=1) == ("200 OK", b"call 1")
    assert _call(replay, attempt=2) == ("200 OK", b"call 1")
    assert _call(replay, attempt=3) == ("200 OK", b"call 1")
    assert app.calls == 1
    assert f"attempt 2 of POST / (invocation {INVOCATION}) answered with the earlier attempt's 200" in log.getvalue()


@pytest.mark.parametrize("status", ["500 Internal Server Error", "503 Service Unavailable", "400 Bad Request"])
def test_a_retry_after_an_error_is_carried_out_again(status):
    app = CountingApp(status)
    replay = RetriedCallReplay(app, log=io.StringIO())
    _call(replay, attempt=1)
    app.status = "200 OK"
    assert _call(replay, attempt=2) == ("200 OK", b"call 2")
    # ...and the attempt that succeeded is the one a further retry gets.
    assert _call(replay, attempt=3) == ("200 OK", b"call 2")
    assert app.calls == 2


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_reads_are_always_carried_out(method):
    app = CountingApp()
    replay = RetriedCallReplay(app, log=io.StringIO())
    _call(replay, attempt=1, method=method)
    assert _call(replay, attempt=2, method=method) == ("200 OK", b"call 2")


def test_calls_without_an_invocation_id_or_first_attempts_are_always_carried_out():
    app = CountingApp()
    replay = RetriedCallReplay(app, log=io.StringIO())
    _call(replay, invocation=None)
    _call(replay, attempt=2, invocation=None)
    _call(replay, attempt=None)  # no amz-sdk-request header: a first attempt
    _call(replay, attempt=1)  # the same invocation id sent as a new first attempt
    _call(replay, attempt=1, invocation="another")
    assert app.calls == 5


def test_a_retry_that_arrives_while_the_first_attempt_runs_waits_for_its_answer():
    app = CountingApp()
    app.release.clear()
    replay = RetriedCallReplay(app, log=io.StringIO())
    first: list[tuple[str, bytes]] = []
    running = threading.Thread(target=lambda: first.append(_call(replay, attempt=1)))
    running.start()
    while app.calls == 0:
        threading.Event().wait(0.01)
    retried: list[tuple[str, bytes]] = []
    retry = threading.Thread(target=lambda: retried.append(_call(replay, attempt=2)))
    retry.start()
    retry.join(0.2)
    assert retry.is_alive(), "the retry did not wait for the first attempt"
    app.release.set()
    running.join(5)
    retry.join(5)
    assert first == retried == [("200 OK", b"call 1")]
    assert app.calls == 1


def test_only_the_latest_calls_are_remembered():
    app = CountingApp()
    replay = RetriedCallReplay(app, log=io.StringIO(), remembered=2)
    for invocation in ("first", "second", "third"):
        _call(replay, attempt=1, invocation=invocation)
    assert _call(replay, attempt=2, invocation="third") == ("200 OK", b"call 3")
    assert _call(replay, attempt=2, invocation="first") == ("200 OK", b"call 4")


def test_the_emulator_answers_a_retried_create_subnet_without_creating_a_second_subnet(client):
    """The call that failed a deploy: the subnet of the first attempt, and no conflict with itself."""
    ec2 = client("ec2")
    attempt = {"number": 1}

    def as_one_invocation(request: Any, **_: Any) -> None:
        request.headers["amz-sdk-invocation-id"] = "5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"
        request.headers["amz-sdk-request"] = f"attempt={attempt['number']}; max=25"

    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.meta.events.register("before-send.ec2.CreateSubnet", as_one_invocation)
    first = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    attempt["number"] = 2
    retried = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    assert retried == first
    assert [subnet["SubnetId"] for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]] == [first]
