"""A stand-in `terraform` executable: replays a recorded `-json` stream, and stops on SIGINT as Terraform does.

Put on PATH as `terraform` by `FakeTerraform` (tests/lifecycle/fakes.py), configured by the JSON
file named in FAKE_TERRAFORM_CONFIG:

    {"commands": {"apply": {"stream": "<file>", "exit": 0}}, "speed": 50,
     "ready_file": "<file>", "signals_file": "<file>", "stop_seconds": 0.5}

- A command is looked up as `<subcommand> -refresh-only` when that flag is given, else as the
  subcommand; one without an entry (init, force-unlock) prints one line and exits 0.
- An entry with `stdout` (`show -json`) prints that file as it is.
- A stream is replayed at `speed` times its recorded pace.
- A stream that holds Terraform's interrupt notice is replayed up to it; then the fake writes
  `ready_file` and waits for SIGINT (at most 60 s), takes `stop_seconds` to stop, replays the
  rest (what real Terraform printed after its interrupt) and exits 1, as Terraform does.
- Every signal received is appended to `signals_file`, so a test can count them. A second
  SIGINT makes it exit at once with 1, like Terraform ("Two interrupts received").
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

INTERRUPT_NOTICE = "Interrupt received"
WAIT_FOR_SIGNAL_SECONDS = 60


def main() -> int:
    config = json.loads(Path(os.environ["FAKE_TERRAFORM_CONFIG"]).read_text())
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), "")
    interrupted = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        with open(config["signals_file"], "a") as signals:
            signals.write(signal.Signals(signum).name + "\n")
        if interrupted.is_set():
            print("Two interrupts received. Exiting immediately.", flush=True)
            os._exit(1)
        interrupted.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    entry = config["commands"].get(f"{command} -refresh-only") if "-refresh-only" in sys.argv else None
    entry = entry or config["commands"].get(command)
    if entry is None:
        print(f"fake terraform {command}: done", flush=True)
        return 0
    if "stdout" in entry:
        sys.stdout.write(Path(entry["stdout"]).read_text())
        return int(entry.get("exit", 0))
    lines = Path(entry["stream"]).read_text().splitlines()
    notice = next((index for index, line in enumerate(lines) if INTERRUPT_NOTICE in line), None)
    before, after = (lines, []) if notice is None else (lines[:notice], lines[notice:])
    _replay(before, config["speed"], interrupted if notice is None else None)
    if notice is None:
        return 1 if interrupted.is_set() else int(entry.get("exit", 0))
    Path(config["ready_file"]).write_text("ready")
    if not interrupted.wait(WAIT_FOR_SIGNAL_SECONDS):
        print("fake terraform: never interrupted", flush=True)
        return 3
    time.sleep(config.get("stop_seconds", 0))
    _replay(after, config["speed"], None)
    return 1


def _replay(lines: list[str], speed: float, stop: threading.Event | None) -> None:
    previous = None
    for line in lines:
        at = _timestamp(line)
        if previous is not None and at is not None:
            time.sleep(max(0.0, at - previous) / speed)
        previous = at if at is not None else previous
        if stop is not None and stop.is_set():
            return
        print(line, flush=True)


def _timestamp(line: str) -> float | None:
    try:
        return datetime.fromisoformat(json.loads(line)["@timestamp"].replace("Z", "+00:00")).timestamp()
    except (ValueError, KeyError, TypeError):
        return None


if __name__ == "__main__":
    sys.exit(main())
