#!/usr/bin/env python
"""Entry point of `cdktf synth|deploy|destroy`: the only place that reads the process environment.

The variables it understands are listed in `config/environment_variables.py`.
"""

from __future__ import annotations

import os
import sys

from config.environment_variables import read_account, read_environments, read_target
from config.settings import ConfigError


def main() -> int:
    try:
        account = read_account(dict(os.environ))
        environments = read_environments(dict(os.environ))
        target = read_target(dict(os.environ))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    # Imported only after the configuration is known to be good: loading the AWS provider
    # bindings takes seconds, and a bad setting should fail at once.
    from cdktf import App

    from stacks.platform import add_account_bootstrap, add_environment

    app = App()
    add_account_bootstrap(app, account, target)
    for environment in environments:
        add_environment(app, environment, target)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
