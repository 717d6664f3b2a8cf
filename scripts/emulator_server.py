"""moto's server with the project's additions (scripts/moto_additions.py): what scripts/emulator.py starts.

    python -m scripts.emulator_server -H 127.0.0.1 -p 5000     # moto.server's own arguments
"""

from __future__ import annotations

import sys

from scripts import moto_additions


def main(argv: list[str] | None = None) -> None:
    moto_additions.install()
    # Imported after the additions: moto's server builds each service's routes from its urls module.
    from moto.server import main as serve

    serve(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
