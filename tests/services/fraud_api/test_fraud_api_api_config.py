"""The API-config secret at run time: refreshed while serving, rotation honoured with an overlap.

The headline test rotates the secret with the real rotation function in moto's Secrets Manager
(served over HTTP by moto's threaded server) while a real `python -m fraud_api` process serves,
and shows the new key signing responses within the refresh interval, without a restart.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from moto.awslambda.models import LambdaBackend
from moto.server import ThreadedMotoServer

from fraud_api.api_config import ApiConfig, ApiConfigSource, parse_api_config, secrets_manager_api_config
from fraud_api.app import create_app
from fraud_api.errors import ConfigurationError
from fraud_api.responses import signature_of
from fraud_api.tracing import NullTracer
from fraud_scoring import ScoringConfig
from secret_rotation import handler as rotation
from tests.services.aws_fixtures import REGION, client
from tests.services.fraud_api.app_database import AppDatabase
from tests.services.fraud_api.inprocess import serve_in_process
from tests.services.payloads import transaction
from tests.services.fraud_api.postgres_server import free_loopback_port
from tests.services.fraud_api.server_process import running_server
from tests.services.secret_rotation.rotation_support import INITIAL_SIGNING_KEY, run_handler, secret_document

REFRESH_SECONDS = 2
# How long past the refresh interval a change may take to show: one Secrets Manager round trip
# on a busy, shared machine.
REFRESH_SLACK_SECONDS = 5
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _config(key: str, *, previous: str | None = None, created_at_s: float | None = None) -> ApiConfig:
    return ApiConfig(
        signing_key=key, scoring=ScoringConfig.default(), previous_signing_key=previous, created_at_s=created_at_s
    )


def test_the_previous_key_signs_too_only_during_the_overlap() -> None:
    now = [1_000.0]
    source = ApiConfigSource(
        _config("new", previous="old", created_at_s=1_000.0), key_overlap_s=3600, wall_clock=lambda: now[0]
    )

    during = source.signing_keys()
    now[0] += 3600
    after = source.signing_keys()

    assert (during.current, during.previous) == ("new", "old")
    assert (after.current, after.previous) == ("new", None)


def test_a_failed_refresh_keeps_the_last_good_configuration(caplog: pytest.LogCaptureFixture) -> None:
    answers: list[Any] = [ConfigurationError(["API-config secret.signing_key is required"]), _config("k2")]

    def fetch() -> ApiConfig:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    source = ApiConfigSource(_config("k1"), fetch)

    assert asyncio.run(source.refresh()) is False
    assert source.current.signing_key == "k1"
    assert asyncio.run(source.refresh()) is True
    assert source.current.signing_key == "k2"
    [failure] = [record for record in caplog.records if record.levelname == "ERROR"]
    assert getattr(failure, "problems") == ["API-config secret.signing_key is required"]


def test_an_unusable_value_is_refused_with_every_problem() -> None:
    with pytest.raises(ConfigurationError) as refused:
        parse_api_config(json.dumps({"signing_key": "", "scoring": {"typo": 1}}), dev_mode=False, source="secret")

    assert refused.value.problems[0] == "secret.signing_key must be a non-empty string"
    assert any(problem.startswith("secret.scoring:") and "typo" in problem for problem in refused.value.problems)


def test_an_unusable_secret_stops_the_start(fresh_database: AppDatabase, caplog: pytest.LogCaptureFixture) -> None:
    def fetch() -> ApiConfig:
        return parse_api_config(json.dumps({"signing_key": "k"}), dev_mode=False, source="API-config secret")

    settings = fresh_database.settings(API_CONFIG="", API_CONFIG_SECRET_ARN="arn:aws:secretsmanager:us-east-1:1:secret:x")
    with pytest.raises(ConfigurationError):
        with serve_in_process(create_app(settings, api_config_fetcher=fetch, tracer=NullTracer())):
            pass

    [refusal] = [record for record in caplog.records if record.levelname == "ERROR"]
    assert getattr(refusal, "problems") == ["API-config secret.scoring is required (set FRAUD_API_DEV_MODE=1 for defaults)"]


@pytest.mark.usefixtures("aws")
def test_the_fetcher_reads_the_current_version_and_the_previous_key() -> None:
    secrets = client("secretsmanager")
    arn = secrets.create_secret(Name=f"api-config-{uuid.uuid4().hex}", SecretString=json.dumps(secret_document()))["ARN"]
    fetch = secrets_manager_api_config(arn, REGION, dev_mode=False)

    first = fetch()
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps(secret_document(signing_key="n" * 64)))
    second = fetch()

    assert (first.signing_key, first.previous_signing_key) == (INITIAL_SIGNING_KEY, None)
    assert (second.signing_key, second.previous_signing_key) == ("n" * 64, INITIAL_SIGNING_KEY)
    assert second.version_id != first.version_id and second.created_at_s is not None


# --- A real server against moto's Secrets Manager over HTTP -----------------------------------------


@pytest.fixture
def secrets_manager_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's server in a thread, with the rotation function registered and run in-process."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_loopback_port(), verbose=False)
    server.start()
    endpoint = "http://{}:{}".format(*server.get_host_and_port())
    # The rotation handler's module-level client must reach the same server.
    monkeypatch.setattr(rotation, "secretsmanager", _client("secretsmanager", endpoint))
    monkeypatch.setattr(
        LambdaBackend, "invoke", lambda self, name, qualifier, body, headers, response_headers: run_handler(json.loads(body)) or b""
    )
    try:
        yield endpoint
    finally:
        server.stop()


def _client(service: str, endpoint: str) -> Any:
    return boto3.session.Session(region_name=REGION, **FAKE_CREDENTIALS).client(service, endpoint_url=endpoint)


def _rotation_function(endpoint: str) -> str:
    role = _client("iam", endpoint).create_role(RoleName=f"rotation-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument="{}")
    return _client("lambda", endpoint).create_function(
        FunctionName=f"secret-rotation-{uuid.uuid4().hex[:8]}",
        Runtime="python3.11",
        Role=role["Role"]["Arn"],
        Handler="secret_rotation.handler.handler",
        Code={"ZipFile": b"invocations are routed in-process"},
    )["FunctionArn"]


def _reading_the_secret(database: AppDatabase, arn: str, endpoint: str, refresh_seconds: int) -> dict[str, str]:
    """The serving environment, with the API config read from the secret (as deployed) instead of fixed."""
    return database.env(
        API_CONFIG="",
        API_CONFIG_SECRET_ARN=arn,
        API_CONFIG_REFRESH_SECONDS=str(refresh_seconds),
        AWS_ENDPOINT_URL_SECRETS_MANAGER=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )


def _score(base_url: str) -> httpx.Response:
    response = httpx.post(f"{base_url}/api/v1/score", json=transaction(), timeout=5)
    assert response.status_code == 201, response.text
    return response


def test_a_rotation_reaches_the_running_server_within_the_refresh_interval(
    fresh_database: AppDatabase, secrets_manager_endpoint: str
) -> None:
    secrets = _client("secretsmanager", secrets_manager_endpoint)
    arn = secrets.create_secret(Name=f"api-config-{uuid.uuid4().hex}", SecretString=json.dumps(secret_document()))["ARN"]
    with running_server(_reading_the_secret(fresh_database, arn, secrets_manager_endpoint, REFRESH_SECONDS)) as server:
        before = _score(server.base_url)
        pid = server.process.pid

        secrets.rotate_secret(
            SecretId=arn,
            RotationLambdaARN=_rotation_function(secrets_manager_endpoint),
            RotationRules={"AutomaticallyAfterDays": 30},
        )
        rotated_at = time.monotonic()
        new_key = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])["signing_key"]
        while True:
            after = _score(server.base_url)
            if after.headers["x-fraud-signature"] == signature_of(after.content, new_key):
                break
            assert time.monotonic() - rotated_at < REFRESH_SECONDS + REFRESH_SLACK_SECONDS, "the new key never arrived"
            time.sleep(0.1)
        seen_after_s = time.monotonic() - rotated_at

        assert server.process.poll() is None and server.process.pid == pid, "no restart"
        server.process.terminate()
        messages = [entry.get("message") for entry in server.log_entries()]

    assert new_key != INITIAL_SIGNING_KEY
    assert before.headers["x-fraud-signature"] == signature_of(before.content, INITIAL_SIGNING_KEY)
    assert "x-fraud-signature-previous" not in before.headers, "never rotated: no previous key"
    # During the overlap the old key still signs, so consumers that hold it can verify.
    assert after.headers["x-fraud-signature-previous"] == signature_of(after.content, INITIAL_SIGNING_KEY)
    assert seen_after_s < REFRESH_SECONDS + REFRESH_SLACK_SECONDS
    assert "API config changed" in messages


def test_a_broken_value_does_not_stop_a_running_server(
    fresh_database: AppDatabase, secrets_manager_endpoint: str
) -> None:
    secrets = _client("secretsmanager", secrets_manager_endpoint)
    arn = secrets.create_secret(Name=f"api-config-{uuid.uuid4().hex}", SecretString=json.dumps(secret_document()))["ARN"]
    with running_server(_reading_the_secret(fresh_database, arn, secrets_manager_endpoint, 1)) as server:
        secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({"signing_key": "x"}))  # no scoring
        time.sleep(2.5)  # more than two refreshes

        response = _score(server.base_url)
        server.process.terminate()
        messages = [entry.get("message") for entry in server.log_entries()]

    assert response.headers["x-fraud-signature"] == signature_of(response.content, INITIAL_SIGNING_KEY)
    assert "API config refresh failed; keeping the last good one" in messages
