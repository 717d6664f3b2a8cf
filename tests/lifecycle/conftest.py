from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass
class StateBucket:
    client: Any
    name: str


@pytest.fixture
def mock_state_bucket(monkeypatch) -> Iterator[StateBucket]:
    """moto's in-process S3 holding the state bucket the lifecycle reads (for `--target aws` commands)."""
    import boto3
    from moto import mock_aws

    from config.environment_variables import read_environments

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    (config,) = read_environments({**os.environ, "FRAUD_ENVIRONMENTS": "dev"})
    with mock_aws():
        client = boto3.client("s3", region_name=config.state.region)
        client.create_bucket(Bucket=config.state.bucket)
        yield StateBucket(client, config.state.bucket)


@pytest.fixture
def emulator_additions() -> None:
    """moto in this process answers what the emulator adds to it (scripts/moto_additions.py: X-Ray rules, CodeDeploy's reads, ...)."""
    from scripts import moto_additions

    moto_additions.install()


@pytest.fixture
def leaked(mock_state_bucket, emulator_additions):
    """What killed applies of dev left in moto's account, and the partial states they wrote (tests/lifecycle/leaked_account.py)."""
    from tests.lifecycle.leaked_account import make_leaked_account

    return make_leaked_account(mock_state_bucket)


@pytest.fixture
def state_key_kms(monkeypatch) -> Iterator[tuple[Any, str]]:
    """moto's KMS with the state key under the alias the bootstrap stack gives it (saved plans are sealed with it)."""
    import boto3
    from moto import mock_aws

    from config.environments import build_environments

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    alias = build_environments()["dev"].state.kms_key_alias
    with mock_aws():
        client = boto3.client("kms", region_name="us-east-1")
        key_id = client.create_key(Description="state")["KeyMetadata"]["KeyId"]
        client.create_alias(AliasName=alias, TargetKeyId=key_id)
        yield client, alias


@pytest.fixture(autouse=True)
def real_deploy_settings(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a real deploy must set (tests/lifecycle/test_account.py tests its absence).

    On AWS the lifecycle names the state bucket after the account it reads from STS unless
    FRAUD_STATE_BUCKET is set, and refuses the placeholder zone and alarm address; the other tests
    pin a bucket and real-looking values so their stubbed clients are asked only what
    those tests are about. The end-to-end run keeps the defaults, as a user on the emulator does."""
    if request.node.get_closest_marker("e2e"):
        return
    monkeypatch.setenv("FRAUD_STATE_BUCKET", "acme-payments-fraud-tfstate")
    monkeypatch.setenv("FRAUD_HOSTED_ZONE", "fraud.acme-payments.test")
    monkeypatch.setenv("FRAUD_ALARM_EMAIL", "fraud-oncall@acme-payments.test")


@pytest.fixture(scope="module")
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """An end-to-end test's own emulator and workdir (`<basetemp>/<test module>0`), stopped when the module is done."""
    from scripts import emulator
    from tests.lifecycle.emulator_run import Run

    workdir = tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2])
    yield Run(workdir)
    emulator.stop(workdir)

