"""One emulator for the tests of what it serves, started the way the lifecycle starts it
(scripts.emulator.start runs scripts/emulator_server.py), so they test the server it runs."""

from __future__ import annotations

from typing import Any, Iterator

import boto3
import botocore.config
import pytest

from scripts import emulator


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    run_dir = tmp_path_factory.mktemp("emulator")
    yield emulator.start(run_dir).endpoint
    emulator.stop(run_dir)


@pytest.fixture(scope="session")
def client(endpoint: str):
    def make(service: str, validate: bool = True) -> Any:
        return boto3.client(
            service, region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test",
            # Off where a test sends what boto3 itself would refuse, to see the emulator refuse it.
            config=botocore.config.Config(parameter_validation=validate),
        )

    return make
