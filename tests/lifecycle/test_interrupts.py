"""Ctrl-C and CI cancellation: Terraform gets one interrupt and stops cleanly; the run says so and exits 130.

The Terraform here is tests/lifecycle/fake_terraform.py replaying what real Terraform printed
when it was sent SIGINT in the middle of two provider waits; the state bucket is moto's
in-process mock. The signals go to this very process, as a terminal's Ctrl-C or a CI runner's
cancellation would.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time

import pytest

from lifecycle.cli import EXIT_INTERRUPTED, main
from lifecycle.interrupts import TerraformProcesses
from lifecycle.terraform import StackDirectory, TerraformInterrupted
from tests.lifecycle.fakes import FakeTerraform, write_aws_synth


@pytest.fixture
def fake(tmp_path, monkeypatch):
    fake = FakeTerraform(tmp_path / "fake", speed=20, stop_seconds=1.0)
    fake.install_for_the_lifecycle(monkeypatch)
    return fake


def send_when_terraform_waits(fake: FakeTerraform, signals: list[signal.Signals], gap: float = 0.2) -> threading.Thread:
    def send() -> None:
        fake.wait_until_waiting_for_interrupt()
        for signum in signals:
            os.kill(os.getpid(), signum)
            time.sleep(gap)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    "signals",
    [[signal.SIGINT], [signal.SIGTERM], [signal.SIGINT, signal.SIGTERM]],
    ids=["ctrl-c", "sigterm", "ci-cancel-then-terminate"],
)
def test_an_interrupted_deploy_lets_terraform_stop_cleanly_and_exits_130(tmp_path, fake, mock_state_bucket, capsys, signals):
    fake.replays("apply", "interrupted.apply.jsonl")
    write_aws_synth(tmp_path / "out", "dev")
    handler_before = signal.getsignal(signal.SIGINT)
    sender = send_when_terraform_waits(fake, signals)

    code = main(["deploy", "dev", "network", "data", "--target", "aws", "--skip-synth", "--outdir", str(tmp_path / "out"),
                 "--workdir", str(tmp_path / "work"), "--report", str(tmp_path / "report.json")])
    sender.join(5)
    out, err = capsys.readouterr()

    assert code == EXIT_INTERRUPTED == 130
    # Terraform got exactly one interrupt, whatever reached the lifecycle: a second one would make it exit at once.
    assert fake.signals() == ["SIGINT"]
    first = signals[0].name
    assert f"    {first} received: asked Terraform to stop cleanly (state written, lock released); nothing new will start" in out
    if len(signals) > 1:
        assert "    SIGTERM received: already stopping, Terraform is writing its state and releasing its lock" in out
    assert re.search(r"^\[1/2\] network-dev            deploy INTERRUPTED after \d+\.\d s$", out, re.M), out
    assert "      stopped mid-operation: aws_s3_bucket_lifecycle_configuration.logs (create, 8 s), aws_sqs_queue.alerts (create, 8 s)" in out
    assert "    Terraform stopped after the interrupt, writing its state first; the state lock is released" in out
    assert "    not attempted (interrupted): data-dev" in out
    assert re.search(r"^    network-dev\s+deploy\s+interrupted\s+\d+\.\d s", out, re.M)
    assert re.search(r"^    data-dev\s+deploy\s+skipped$", out, re.M)
    assert f"interrupted: deploy of network-dev interrupted by {first}" in err
    assert not (tmp_path / "work" / "logs" / "data-dev.apply.log").exists()  # nothing started after the interrupt
    report = json.loads((tmp_path / "report.json").read_text())
    assert [(step["stack"], step["outcome"]) for step in report] == [("network-dev", "interrupted"), ("data-dev", "skipped")]
    assert signal.getsignal(signal.SIGINT) is handler_before


def test_terraform_that_does_not_stop_in_time_gets_the_second_interrupt(tmp_path, fake):
    fake.stop_seconds = 30  # a provider that never returns from its waiter
    fake.replays("apply", "interrupted.apply.jsonl")
    notes: list[str] = []
    processes = TerraformProcesses(notify=notes.append, grace_seconds=0.5)
    directory = tmp_path / "network-dev"
    directory.mkdir()
    stack = StackDirectory(directory, fake.environment(dict(os.environ)), tmp_path / "logs", processes=processes)
    sender = send_when_terraform_waits(fake, [signal.SIGINT])

    started = time.monotonic()
    with processes.forwarding_signals(), pytest.raises(TerraformInterrupted):
        stack.apply()
    sender.join(5)

    assert time.monotonic() - started < 20
    assert fake.signals() == ["SIGINT", "SIGINT"]
    assert processes.forced
    assert notes[-1].startswith("Terraform did not stop within 0 s: interrupting it again, it exits at once")


def test_nothing_starts_once_interrupted(tmp_path, fake):
    processes = TerraformProcesses()
    processes.interrupt(signal.SIGTERM)
    directory = tmp_path / "network-dev"
    directory.mkdir()
    with pytest.raises(Exception, match="SIGTERM received"):
        StackDirectory(directory, fake.environment(dict(os.environ)), tmp_path / "logs", processes=processes).init()
    assert not fake.signals_file.exists()
