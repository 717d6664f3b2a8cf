from __future__ import annotations

import json
from pathlib import Path

import pytest

EMULATOR_ENDPOINT = "http://127.0.0.1:45999"


@pytest.fixture(scope="session")
def emulator_synthesis(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """dev (and bootstrap) synthesized for the emulator in this process, as the lifecycle deploys them.

    The provider bindings are already loaded by the session's `synthesis`, so a second App is cheap.
    Returns each stack's config after the emulator's adaptation (config.targets.EMULATOR_GAPS).
    """
    from cdktf import App

    from config.environments import build_account, build_environments
    from config.targets import DeploymentTarget
    from lifecycle.emulator_adaptation import adapt_for_emulator
    from stacks.platform import add_account_bootstrap, add_environment

    target = DeploymentTarget(emulator_endpoint=EMULATOR_ENDPOINT)
    outdir: Path = tmp_path_factory.mktemp("cdktf.emulator.out")
    dev = build_environments()["dev"]
    app = App(outdir=str(outdir))
    add_account_bootstrap(app, build_account(), target)
    add_environment(app, dev, target)
    app.synth()
    configs = {}
    for stack_dir in sorted((outdir / "stacks").iterdir()):
        config = json.loads((stack_dir / "cdk.tf.json").read_text())
        adapt_for_emulator(config)
        configs[stack_dir.name] = config
    return configs


@pytest.fixture(autouse=True)
def generic_state_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    """On AWS the lifecycle names the state bucket after the account it reads from STS unless
    FRAUD_STATE_BUCKET is set (tests/lifecycle/test_account.py); the other tests pin the generic
    bucket so their stubbed clients are asked only what those tests are about."""
    from config.environments import DEFAULT_STATE_BUCKET

    monkeypatch.setenv("FRAUD_STATE_BUCKET", DEFAULT_STATE_BUCKET)
