"""moto's server with the project's additions (scripts/moto_additions.py) and its answers to retried calls
(scripts/emulator_replay.py): what scripts/emulator.py starts.

    python -m scripts.emulator_server -H 127.0.0.1 -p 5000

It serves moto's application the way moto's own `moto.server` does (threaded, with moto's request
handler), wrapped in `RetriedCallReplay`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from scripts import moto_additions
from scripts.emulator_replay import RetriedCallReplay


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.emulator_server")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    arguments = parser.parse_args(argv)
    moto_additions.install()
    # Imported after the additions: moto builds each service's routes from its urls module.
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    # moto's responses that name the endpoint (queue URLs, for one) read the port from here.
    os.environ.setdefault("MOTO_PORT", str(arguments.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    application = DomainDispatcherApplication(create_backend_app)
    run_simple(arguments.host, arguments.port, RetriedCallReplay(application), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main(sys.argv[1:])
