"""The real `python -m fraud_api` process, started for a test and always stopped after it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx

from scripts.paths import REPO_ROOT
from tests.services.fraud_api.postgres_server import free_loopback_port

STARTUP_TIMEOUT_S = 20.0


def process_env(env: dict[str, str]) -> dict[str, str]:
    """`env` plus what any of the service's entry points needs to run from the repository.

    Nothing else leaks in from the test process: no DB_*, API_* or AWS_* of its own.
    """
    inherited = {name: value for name, value in os.environ.items() if not name.startswith(("DB_", "API_", "AWS_"))}
    return {**inherited, **env, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "services"), str(REPO_ROOT)])}


class ServerProcess:
    def __init__(self, process: subprocess.Popen[str], base_url: str, env: dict[str, str]) -> None:
        self.process = process
        self.base_url = base_url
        self.env = env

    def output(self) -> str:
        stdout, _ = self.process.communicate(timeout=15)
        return stdout

    def log_entries(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.output().splitlines() if line.startswith("{")]


@contextlib.contextmanager
def running_server(env: dict[str, str]) -> Iterator[ServerProcess]:
    """Start the server with `env` (its PORT is chosen here), wait until healthy, kill it at the end."""
    port = free_loopback_port()
    env = process_env({**env, "PORT": str(port)})
    process = subprocess.Popen(
        [sys.executable, "-m", "fraud_api"],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(process, base_url)
        yield ServerProcess(process, base_url, env)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)


def _wait_until_healthy(process: subprocess.Popen[str], base_url: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{process.stdout.read() if process.stdout else ''}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("server did not become healthy in time")
