"""The local AWS emulator: moto's server on loopback, on a free port, in the background.

moto's server runs with the operations it lacks for the stacks' resources added
(scripts/moto_additions.py, started through scripts/emulator_server.py).

One emulator per run directory: `start` records its pid and endpoint in `<run_dir>/emulator.json`
so later commands (deploy, destroy, status) find it, and `stop` ends exactly that process.
Everything the emulator holds is in its memory: stopping it forgets every resource, so the
bootstrap stack's local state is kept in the same run directory and removed with it.

    python -m scripts.emulator start [--run-dir DIR]   # prints the endpoint
    python -m scripts.emulator status [--run-dir DIR]
    python -m scripts.emulator stop [--run-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from scripts.paths import CACHE_ROOT, REPO_ROOT

DEFAULT_RUN_DIR = CACHE_ROOT / "emulator"
STATE_FILE_NAME = "emulator.json"
# What the emulator needs to behave like an account (not how the stacks reach it: that is
# config/targets.py). Managed policies: stacks attach AWS-managed policy ARNs, which must exist.
# ACM: certificates turn ISSUED at once instead of after moto's default 60 s.
SERVER_SETTINGS = {
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    "MOTO_ACM_VALIDATION_WAIT": "0",
}
START_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Emulator:
    pid: int
    endpoint: str
    log_file: str

    def is_alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except OSError:
            return False
        return _answers(self.endpoint)


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def running(run_dir: Path = DEFAULT_RUN_DIR) -> Emulator | None:
    """The emulator recorded in `run_dir`, if it still answers."""
    state_file = run_dir / STATE_FILE_NAME
    if not state_file.exists():
        return None
    emulator = Emulator(**json.loads(state_file.read_text()))
    return emulator if emulator.is_alive() else None


def start(run_dir: Path = DEFAULT_RUN_DIR) -> Emulator:
    """Start a fresh emulator in `run_dir` (or return the one already running there)."""
    existing = running(run_dir)
    if existing:
        return existing
    run_dir.mkdir(parents=True, exist_ok=True)
    # A new emulator knows nothing: whatever an earlier one left in the run directory is stale.
    for stale in ("bootstrap.tfstate", "bootstrap.tfstate.backup"):
        (run_dir / stale).unlink(missing_ok=True)
    port = free_loopback_port()
    log_file = run_dir / "moto.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "scripts.emulator_server", "-H", "127.0.0.1", "-p", str(port)],
            cwd=REPO_ROOT,
            env={**os.environ, **SERVER_SETTINGS},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Its own session: Ctrl-C in the terminal that started it does not stop it, `stop` does.
            start_new_session=True,
        )
    emulator = Emulator(pid=process.pid, endpoint=f"http://127.0.0.1:{port}", log_file=str(log_file))
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not _answers(emulator.endpoint):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"moto's server did not start on {emulator.endpoint}; see {log_file}")
        time.sleep(0.2)
    (run_dir / STATE_FILE_NAME).write_text(json.dumps(asdict(emulator)))
    return emulator


def stop(run_dir: Path = DEFAULT_RUN_DIR) -> bool:
    """Stop the emulator recorded in `run_dir`; False when none was running."""
    state_file = run_dir / STATE_FILE_NAME
    if not state_file.exists():
        return False
    emulator = Emulator(**json.loads(state_file.read_text()))
    state_file.unlink()
    for stale in ("bootstrap.tfstate", "bootstrap.tfstate.backup"):
        (run_dir / stale).unlink(missing_ok=True)
    try:
        os.kill(emulator.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(emulator.pid, 0)
        except ProcessLookupError:
            break
        _reap(emulator.pid)
        time.sleep(0.1)
    else:
        os.kill(emulator.pid, signal.SIGKILL)
        _reap(emulator.pid)
    return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.emulator", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("start", "status", "stop"))
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR)
    args = parser.parse_args(argv)
    if args.command == "start":
        emulator = start(args.run_dir)
        print(emulator.endpoint)
        return 0
    if args.command == "status":
        emulator = running(args.run_dir)
        print(f"running at {emulator.endpoint} (pid {emulator.pid})" if emulator else "not running")
        return 0 if emulator else 1
    print("stopped" if stop(args.run_dir) else "not running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
