"""Ctrl-C and CI cancellation: every running Terraform gets exactly one interrupt and time to stop cleanly.

Terraform stops gracefully on its first SIGINT: it cancels the operations in flight, writes the
state and releases the lock. A second interrupt makes it exit at once, and then the state may
lack what was being created and the lock stays. So Terraform runs in its own process group,
where the terminal's Ctrl-C does not reach it directly (it would arrive twice: once from the
terminal, once forwarded), and the lifecycle forwards the first SIGINT, SIGTERM (CI cancellation)
or SIGHUP (the terminal went away) as one SIGINT. Later signals are only acknowledged. Only if
Terraform is still running `STOP_GRACE_SECONDS` later is it sent the second interrupt.

No new Terraform starts once the run is interrupted: the step in progress ends, the rest are
reported as not attempted, and the command exits 130.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# Long enough for the provider to return from a cancelled waiter and for the state to be written
# to S3; short enough to end before a CI runner gives up on the job.
STOP_GRACE_SECONDS = 90.0


class Interrupted(Exception):
    """The run was interrupted by a signal; the message says which and what was done about it."""


@dataclass
class TerraformProcesses:
    """The Terraform processes of this run, so a signal reaches each exactly once."""

    notify: Callable[[str], None] = lambda text: None
    grace_seconds: float = STOP_GRACE_SECONDS
    signal_name: str | None = None  # the signal that interrupted the run
    forced: bool = False  # Terraform was sent the second interrupt after the grace period
    _processes: set[subprocess.Popen] = field(default_factory=set)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _deadline: threading.Timer | None = None

    @property
    def interrupted(self) -> bool:
        return self.signal_name is not None

    def check(self) -> None:
        """Raise Interrupted once a signal came: nothing new starts."""
        if self.signal_name is not None:
            raise Interrupted(f"{self.signal_name} received")

    @contextmanager
    def run(self, args: list[str], *, cwd: Path, env: dict[str, str], stderr: int, bufsize: int = -1) -> Iterator[subprocess.Popen]:
        """Start a Terraform process (text on a pipe, no stdin) in its own process group; it is forwarded the run's interrupt."""
        with self._lock:
            self.check()
            process = subprocess.Popen(
                args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, text=True, bufsize=bufsize,
                process_group=0,
            )
            self._processes.add(process)
        try:
            with process:
                yield process
        finally:
            with self._lock:
                self._processes.discard(process)

    def interrupt(self, signum: int) -> None:
        """Forward the first signal to every running Terraform as one SIGINT; acknowledge the rest."""
        name = signal.Signals(signum).name
        with self._lock:
            if self.signal_name is not None:
                self.notify(f"{name} received: already stopping, Terraform is writing its state and releasing its lock"
                            f" (it gets {self.grace_seconds:.0f} s before it is stopped hard)")
                return
            self.signal_name = name
            running = list(self._processes)
            for process in running:
                _send_interrupt(process)
            if running:
                self.notify(f"{name} received: asked Terraform to stop cleanly (state written, lock released); nothing new will start")
                self._deadline = threading.Timer(self.grace_seconds, self._stop_hard)
                self._deadline.daemon = True
                self._deadline.start()
            else:
                self.notify(f"{name} received: nothing new will start")

    def _stop_hard(self) -> None:
        with self._lock:
            running = [process for process in self._processes if process.poll() is None]
            if not running:
                return
            self.forced = True
            self.notify(f"Terraform did not stop within {self.grace_seconds:.0f} s: interrupting it again, it exits at once"
                        " (the state may lack what was in progress, and the lock may stay)")
            for process in running:
                _send_interrupt(process)

    @contextmanager
    def forwarding_signals(self) -> Iterator[None]:
        """Install the handlers for the duration (main thread only: Python delivers signals there)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {signum: signal.signal(signum, lambda received, frame: self.interrupt(received)) for signum in FORWARDED_SIGNALS}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if self._deadline is not None:
                self._deadline.cancel()


def _send_interrupt(process: subprocess.Popen) -> None:
    try:
        os.kill(process.pid, signal.SIGINT)
    except ProcessLookupError:
        pass
