"""What a terminal and a CI log show while Terraform runs, from streams recorded from real Terraform.

Each stream is replayed at its recorded pace on a fake clock, with the display ticking every
second as the real one does, so heartbeats and elapsed times are those of the real run.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, replace

import pytest

from lifecycle.live import ERASE_LINE_ABOVE, HEARTBEAT_SECONDS
from lifecycle.progress import Progress
from lifecycle.terraform import TerraformFailed
from lifecycle.terraform_ui import TerraformRun
from tests.lifecycle.fakes import recorded_events, recorded_lock

# Terraform's start-up before its first event, as measured in the e2e (init, provider start).
INIT_SECONDS = 3.0


@dataclass
class Clock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


class Screen:
    """The few terminal controls the live view uses: newline, and erase-the-line-above."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def feed(self, text: str) -> Screen:
        for chunk in re.split(f"({re.escape(ERASE_LINE_ABOVE)})", text):
            if chunk == ERASE_LINE_ABOVE:
                self.lines.pop()
            elif chunk:
                *complete, _ = chunk.split("\n")
                self.lines += complete
        return self


@dataclass(frozen=True)
class Step:
    stack: str
    stream: str
    command: str
    offset: float = 0.0  # seconds after the first step's Terraform started
    stop_before: str | None = None  # an event type: the stream is cut there (Terraform still running)

    @property
    def action(self) -> str:
        return {"plan": "plan", "apply": "deploy", "destroy": "destroy"}[self.command]


class Replay:
    """One Progress on a fake clock that ticks every second, as the real display's ticker does."""

    def __init__(self, *, tty: bool, width: int = 250) -> None:
        self.out = io.StringIO()
        self.clock = Clock()
        self.progress = Progress(out=self.out, tty=tty, clock=self.clock, tick_seconds=None, width=width)
        self.started = 0.0
        self.next_tick = 0.0
        self.frames: list[tuple[float, list[str]]] = []  # (seconds since the steps started, the terminal) after every tick

    def advance_to(self, moment: float) -> None:
        while self.next_tick <= moment:
            self.clock.now = self.next_tick
            self.progress.tick()
            self.frames.append((round(self.next_tick - self.started), self.screen()))
            self.next_tick += 1
        self.clock.now = max(self.clock.now, moment)

    def steps(self, *steps: Step) -> dict[str, TerraformRun]:
        """Start every step (terraform init takes INIT_SECONDS), then replay their streams side by side."""
        first = min(recorded_events(step.stream)[0].at - step.offset for step in steps)
        self.started = self.clock.now = first - INIT_SECONDS
        self.next_tick = self.started + 1
        timeline, runs, watchers = [], {}, {}
        for step in steps:
            events = recorded_events(step.stream)
            if step.stop_before:
                events = events[: next(index for index, event in enumerate(events) if event.type == step.stop_before)]
            shift = first + step.offset - events[0].at
            runs[step.stack] = TerraformRun(step.command, started_at=events[0].at + shift)
            watchers[step.stack] = self.progress.watch(step.stack)
            timeline += [(replace(event, at=event.at + shift), step.stack) for event in events]
            self.progress.start(step.stack, step.action, "[1/1] ")
        for event, stack in sorted(timeline, key=lambda item: item[0].at):
            self.advance_to(event.at)
            watchers[stack](runs[stack], runs[stack].feed(event))
        return runs

    def screen(self) -> list[str]:
        return Screen().feed(self.out.getvalue()).lines

    def frame_at(self, seconds: int) -> list[str]:
        return next(lines for moment, lines in self.frames if moment == seconds)


# --- without a terminal (CI) ----------------------------------------------------------------


def test_ci_gets_a_line_per_long_resource_and_a_heartbeat_every_30_s_naming_what_runs():
    replay = Replay(tty=False)
    replay.steps(Step("network-dev", "long_wait.apply.jsonl", "apply"))
    replay.progress.done("network-dev", "deploy", "[1/1] ", "3 resources")
    text = replay.out.getvalue()
    lines = text.splitlines()

    assert ERASE_LINE_ABOVE not in text and "\r" not in text
    assert lines[0] == "[1/1] network-dev            deploy ... running"
    # The two waits the provider makes, each told when it ends, with the count so far.
    assert "    network-dev: aws_sqs_queue.alerts created after 25 s (2/3)" in lines
    assert "    network-dev: aws_s3_bucket_lifecycle_configuration.logs created after 55 s (3/3)" in lines
    # Quick resources are not worth a line of their own.
    assert not any("aws_s3_bucket.logs created" in line for line in lines)
    heartbeats = [line for line in lines if re.match(r"    network-dev: \d+/\d+ resources", line)]
    # Terraform started 3 s into the step and began both waits 12.7 and 12.9 s after that.
    assert heartbeats == [
        "    network-dev: 1/3 resources, 0 errors, 30 s; in progress: aws_sqs_queue.alerts (14 s), aws_s3_bucket_lifecycle_configuration.logs (14 s)",
        "    network-dev: 2/3 resources, 0 errors, 60 s; in progress: aws_s3_bucket_lifecycle_configuration.logs (44 s)",
    ]
    assert lines[-1] == "[1/1] network-dev            deployed in 71.8 s (3 resources)"


def test_ci_heartbeat_says_what_terraform_does_before_any_resource_starts():
    # Another run holds the lock: Terraform says so once, then waits up to its lock timeout in silence.
    replay = Replay(tty=False)
    replay.steps(Step("network-dev", "locked.apply.jsonl", "apply", stop_before="diagnostic"))
    replay.advance_to(replay.clock.now + HEARTBEAT_SECONDS)
    heartbeats = [line for line in replay.out.getvalue().splitlines() if line.startswith("    network-dev:")]
    assert heartbeats == ["    network-dev: 0 errors, 30 s; acquiring the state lock"]


# --- on a terminal --------------------------------------------------------------------------


def test_a_terminal_shows_one_live_line_per_stack_updated_in_place():
    replay = Replay(tty=True)
    replay.steps(Step("network-dev", "long_wait.apply.jsonl", "apply"))

    assert replay.frame_at(1) == ["[1/1] network-dev            deploy 1 s; waiting for terraform init"]
    assert replay.frame_at(8) == ["[1/1] network-dev            deploy 0 errors, 8 s; starting Terraform"]
    assert replay.frame_at(30) == [
        "[1/1] network-dev            deploy 1/3 resources, 0 errors, 30 s; in progress: aws_sqs_queue.alerts (14 s), aws_s3_bucket_lifecycle_configuration.logs (14 s)"
    ]
    assert replay.frame_at(45) == [
        "[1/1] network-dev            deploy 2/3 resources, 0 errors, 45 s; in progress: aws_s3_bucket_lifecycle_configuration.logs (29 s)"
    ]
    # Redrawn, never appended: the live line is the only line on the screen, whatever the time.
    assert all(len(lines) == 1 for _, lines in replay.frames)

    replay.progress.done("network-dev", "deploy", "[1/1] ", "3 resources")
    assert replay.screen() == ["[1/1] network-dev            deployed in 71.8 s (3 resources)"]
    # No per-resource lines: the terminal saw them in the live line.
    assert "created after" not in replay.out.getvalue()


def test_plans_side_by_side_get_a_live_line_each_and_permanent_lines_stay_above():
    replay = Replay(tty=True)
    replay.progress.section("plan dev")
    replay.steps(Step("data-dev", "long_wait.apply.jsonl", "apply"), Step("compute-dev", "destroy.jsonl", "destroy", offset=20))
    assert replay.frame_at(30) == [
        "==> plan dev",
        "[1/1] data-dev               deploy 1/3 resources, 0 errors, 30 s; in progress: aws_sqs_queue.alerts (14 s), aws_s3_bucket_lifecycle_configuration.logs (14 s)",
        "[1/1] compute-dev            destroy 0 errors, 30 s; refreshing the state",
    ]
    replay.progress.done("compute-dev", "destroy", "[1/1] ", "state empty")
    screen = replay.screen()
    assert screen[0] == "==> plan dev" and screen[1].startswith("[1/1] compute-dev            destroyed in")
    assert screen[2].startswith("[1/1] data-dev               deploy 3/3 resources")


def test_a_live_line_never_wraps():
    replay = Replay(tty=True, width=60)
    replay.steps(Step("network-dev", "long_wait.apply.jsonl", "apply"))
    assert all(len(line) <= 59 for _, lines in replay.frames for line in lines)


def test_the_error_count_shows_while_terraform_still_runs():
    replay = Replay(tty=True)
    replay.steps(Step("data-dev", "failed.apply.jsonl", "apply"))
    assert replay.screen()[-1].startswith("[1/1] data-dev               deploy 2/3 resources, 1 error, ")


# --- how a step ends ------------------------------------------------------------------------


@pytest.mark.parametrize("tty", [False, True])
def test_a_failure_names_the_resource_and_terraform_s_diagnostic(tty):
    replay = Replay(tty=tty)
    runs = replay.steps(Step("data-dev", "failed.apply.jsonl", "apply"))
    failure = TerraformFailed("apply", "data-dev.apply.log", "Error: ...", runs["data-dev"])
    replay.progress.failed("data-dev", "deploy", "[1/1] ", failure)
    screen = replay.screen()
    assert re.fullmatch(r"\[1/1\] data-dev               deploy FAILED after \d+\.\d s", screen[-2])
    assert screen[-1].startswith(
        "      aws_iam_role_policy_attachment.missing: attaching IAM Policy (arn:aws:iam::aws:policy/DoesNotExistPolicy) to IAM Role (recording-worker)"
    )
    assert screen[-1].endswith("NoSuchEntity: Policy arn:aws:iam::aws:policy/DoesNotExistPolicy does not exist or is not attachable.")


def test_a_lock_error_shows_terraform_s_detail_with_the_lock_id():
    replay = Replay(tty=False)
    runs = replay.steps(Step("network-dev", "locked.apply.jsonl", "apply"))
    assert runs["network-dev"].hit_lock()
    replay.progress.failed("network-dev", "deploy", "[1/1] ", TerraformFailed("apply", "x.log", "", runs["network-dev"]))
    text = replay.out.getvalue()
    assert "      Error acquiring the state lock\n" in text
    assert f"\n          ID:        {recorded_lock().id}\n" in text


def test_an_interrupted_step_lists_what_terraform_stopped_mid_operation():
    replay = Replay(tty=False)
    replay.steps(Step("network-dev", "interrupted.apply.jsonl", "apply"))
    replay.progress.interrupted("network-dev", "deploy", "[1/1] ")
    lines = replay.out.getvalue().splitlines()
    assert re.fullmatch(r"\[1/1\] network-dev            deploy INTERRUPTED after \d+\.\d s", lines[-2])
    # 8.2 and 8.3 s by Terraform's timestamps (it rounds them up to "9s" in its own messages).
    assert lines[-1] == "      stopped mid-operation: aws_s3_bucket_lifecycle_configuration.logs (create, 8 s), aws_sqs_queue.alerts (create, 8 s)"


def test_the_summary_is_a_table_and_the_report_has_every_resource_timing(tmp_path):
    replay = Replay(tty=False)
    replay.steps(Step("network-dev", "long_wait.apply.jsonl", "apply"))
    replay.progress.done("network-dev", "deploy", "[1/1] ", "3 resources")
    replay.steps(Step("data-dev", "plan.jsonl", "plan"))
    replay.progress.done("data-dev", "plan", "[1/1] ", "Plan: 5 to add, 0 to change, 0 to destroy.")
    replay.steps(Step("compute-dev", "destroy.jsonl", "destroy"))
    replay.progress.done("compute-dev", "destroy", "[1/1] ", "state empty")
    replay.progress.skipped(["edge-dev"], "deploy", "network-dev failed")
    replay.out.truncate(0)
    replay.out.seek(0)
    replay.progress.summary()

    table = replay.out.getvalue().splitlines()
    assert table[0] == "==> summary"
    assert re.split(r"\s{2,}", table[1].strip()) == ["layer", "action", "outcome", "duration", "added", "changed", "destroyed", "slowest resource"]
    rows = {row.split()[0]: row.split() for row in table[2:]}
    assert rows["network-dev"] == ["network-dev", "deploy", "done", "71.8", "s", "3", "0", "0", "aws_s3_bucket_lifecycle_configuration.logs", "(55", "s)"]
    assert rows["data-dev"][1:3] == ["plan", "done"] and rows["data-dev"][5:] == ["5", "0", "0"]  # a plan changes nothing: no slowest
    assert rows["compute-dev"][1:3] == ["destroy", "done"] and rows["compute-dev"][5:8] == ["0", "0", "5"]
    assert rows["edge-dev"] == ["edge-dev", "deploy", "skipped"]

    replay.progress.write_report(tmp_path / "report.json")
    network, plan, destroy, _ = json.loads((tmp_path / "report.json").read_text())
    timings = {resource["address"]: resource for resource in network["terraform"]["resources"]}
    assert set(timings) == {"aws_s3_bucket.logs", "aws_sqs_queue.alerts", "aws_s3_bucket_lifecycle_configuration.logs"}
    slow = timings["aws_s3_bucket_lifecycle_configuration.logs"]
    assert (slow["action"], slow["outcome"]) == ("create", "done")
    # Started 12.9 s after Terraform did (8 s of planning first), done 55.1 s later.
    assert (slow["started"], slow["seconds"]) == (12.9, 55.1)
    assert network["slowest"] == {"address": "aws_s3_bucket_lifecycle_configuration.logs", "seconds": slow["seconds"]}
    assert (network["added"], network["errors"]) == (3, 0)
    assert plan["terraform"]["command"] == "plan" and plan["added"] == 5
    assert {resource["action"] for resource in destroy["terraform"]["resources"]} == {"delete"}


def test_a_long_address_is_shortened_in_the_middle_so_its_elapsed_time_stays_visible():
    from lifecycle.live import describe

    run = TerraformRun("apply", started_at=0.0, planned=59)
    address = "aws_s3_bucket_lifecycle_configuration.flow-logs_bucket_lifecycle_26718593"
    run.in_progress = {address: ("create", 14.0), "aws_nat_gateway.nat_gateway-a_0F1E2D3C": ("create", 20.0)}
    assert describe(run, 65.0, 0.0) == f"0/59 resources, 0 errors, 65 s; in progress: {address} (51 s), aws_nat_gateway.nat_gateway-a_0F1E2D3C (45 s)"
    assert describe(run, 65.0, 0.0, width=140) == f"0/59 resources, 0 errors, 65 s; in progress: {address} (51 s) and 1 more"
    narrow = describe(run, 65.0, 0.0, width=100)
    assert narrow == "0/59 resources, 0 errors, 65 s; in progress: aws_s3_bucket_lif...ifecycle_26718593 (51 s) and 1 more"
    assert len(narrow) == 100
