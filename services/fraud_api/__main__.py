"""`python -m fraud_api`: the container's entry point.

uvicorn with uvloop and httptools in a single process: the task has one vCPU, so more worker
processes would only compete for it, and one event loop keeps one connection pool.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from types import FrameType

import uvicorn

from fraud_api.app import create_app
from fraud_api.errors import ConfigurationError
from fraud_api.logs import configure_logging
from fraud_api.settings import Settings

EXIT_CONFIGURATION = 2
EXIT_STARTUP_FAILED = 3


def main() -> int:
    configure_logging(os.environ.get("LOG_LEVEL", "INFO").upper())
    log = logging.getLogger("fraud_api")
    try:
        settings = Settings.from_env(os.environ)
    except ConfigurationError as exc:
        log.error("invalid configuration", extra={"problems": exc.problems})
        return EXIT_CONFIGURATION
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            log_config=None,  # keep the JSON logging configured above
            access_log=False,
            server_header=False,
            # ECS sends SIGTERM, waits stopTimeout (30 s by default), then SIGKILL: finish
            # in-flight requests within that, with room to close the pool.
            timeout_graceful_shutdown=settings.shutdown_grace_s,
            # Longer than the ALB's 60 s idle timeout, so the ALB, not us, closes idle
            # connections and never sends a request into one we are closing.
            timeout_keep_alive=75,
        )
    )
    log.info("starting", extra={"port": settings.port, "dev_mode": settings.dev_mode})
    _treat_stop_signals_as_handled()
    server.run()
    if not server.started:
        return EXIT_STARTUP_FAILED
    log.info("stopped")
    return 0


def _treat_stop_signals_as_handled() -> None:
    """After a graceful shutdown uvicorn re-raises the stop signal to the handler it found.

    With the default handler the process would then die of SIGTERM (exit 143) although it shut
    down cleanly; with this one it returns normally and exits 0, so a non-zero exit means a
    real failure in ECS's stopped-task reason.
    """

    def already_handled(_signum: int, _frame: FrameType | None) -> None:
        return None

    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, already_handled)


if __name__ == "__main__":
    sys.exit(main())
