"""State reads fail closed: only a missing state object is "no state"; everything else stops the
command with one line naming the bucket and the key, and exit code 5."""

from __future__ import annotations

import json
import re

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError
from botocore.stub import Stubber

from lifecycle.cli import EXIT_STATE_UNREADABLE, main
from lifecycle.states import S3StateReader, StateBucketMissing, StateUnreadable, state_key
from stacks.layers import Layer
from tests.lifecycle.fakes import state_document, write_aws_synth

BUCKET = "acme-payments-fraud-tfstate"
KEY = state_key("dev", Layer.NETWORK)
BOOTSTRAP = "scripts/lifecycle.sh bootstrap dev --target aws"


def stubbed_s3() -> tuple[object, Stubber]:
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    return client, Stubber(client)


def reader_failing_with(code: str, status: int, message: str = "") -> S3StateReader:
    client, stubber = stubbed_s3()
    stubber.add_client_error("get_object", service_error_code=code, service_message=message or code, http_status_code=status)
    stubber.activate()
    return S3StateReader(BUCKET, client, bootstrap_command=BOOTSTRAP)


class RaisingS3:
    """An S3 client whose every call raises what botocore raises below the HTTP layer."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def get_object(self, **_: object) -> dict:
        raise self.error


def test_a_missing_object_is_no_state_and_nothing_else_is():
    assert reader_failing_with("NoSuchKey", 404).read(KEY) is None
    assert reader_failing_with("NoSuchKey", 404).read_lock(KEY) is None


def test_a_present_object_is_read():
    client, stubber = stubbed_s3()
    from io import BytesIO

    from botocore.response import StreamingBody

    body = json.dumps(state_document(3)).encode()
    stubber.add_response("get_object", {"Body": StreamingBody(BytesIO(body), len(body))}, {"Bucket": BUCKET, "Key": KEY})
    stubber.activate()
    assert S3StateReader(BUCKET, client).read(KEY).managed_resources == 3


def test_a_missing_bucket_says_so_and_how_to_bootstrap():
    with pytest.raises(StateBucketMissing) as raised:
        reader_failing_with("NoSuchBucket", 404).read(KEY)
    message = str(raised.value)
    assert f"the state bucket {BUCKET} does not exist" in message
    assert f"`{BOOTSTRAP}`" in message and "FRAUD_STATE_BUCKET" in message
    assert (raised.value.bucket, raised.value.key) == (BUCKET, KEY)


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("AccessDenied", 403, "access denied reading s3://{bucket}/{key}"),
        ("SlowDown", 503, "S3 throttled reading s3://{bucket}/{key}"),
        ("ServiceUnavailable", 503, "S3 throttled reading s3://{bucket}/{key}"),
        ("ExpiredToken", 400, "the AWS credentials were refused reading s3://{bucket}/{key} (ExpiredToken"),
        ("InternalError", 500, "S3 answered InternalError reading s3://{bucket}/{key}"),
    ],
)
def test_refusals_and_throttling_name_the_bucket_and_key(code, status, expected):
    with pytest.raises(StateUnreadable) as raised:
        reader_failing_with(code, status).read(KEY)
    assert not isinstance(raised.value, StateBucketMissing)
    assert expected.format(bucket=BUCKET, key=KEY) in str(raised.value)


def test_access_denied_explains_what_the_credentials_need():
    with pytest.raises(StateUnreadable, match=r"s3:ListBucket on the bucket, s3:GetObject on its objects and kms:Decrypt"):
        reader_failing_with("AccessDenied", 403, "Access Denied").read_lock(KEY)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (NoCredentialsError(), "no AWS credentials to read s3://{bucket}/{key}"),
        (EndpointConnectionError(endpoint_url="https://s3.amazonaws.com"), "cannot reach S3 to read s3://{bucket}/{key} (EndpointConnectionError"),
        (ConnectTimeoutError(endpoint_url="https://s3.amazonaws.com"), "cannot reach S3 to read s3://{bucket}/{key} (ConnectTimeoutError"),
        (ReadTimeoutError(endpoint_url="https://s3.amazonaws.com"), "cannot reach S3 to read s3://{bucket}/{key} (ReadTimeoutError"),
    ],
)
def test_no_credentials_and_network_errors_name_the_bucket_and_key(error, expected):
    with pytest.raises(StateUnreadable) as raised:
        S3StateReader(BUCKET, RaisingS3(error)).read(KEY)
    assert expected.format(bucket=BUCKET, key=KEY) in str(raised.value)


@pytest.fixture
def no_credentials(monkeypatch, tmp_path) -> None:
    """No credential anywhere botocore looks: variables, files, instance metadata."""
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_a_real_client_without_credentials_fails_closed(no_credentials):
    client = boto3.session.Session(region_name="us-east-1").client("s3")
    with pytest.raises(StateUnreadable, match=rf"no AWS credentials to read s3://{BUCKET}/{KEY}"):
        S3StateReader(BUCKET, client).read(KEY)


def test_a_real_client_that_cannot_connect_fails_closed():
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    client = boto3.client(
        "s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:9", aws_access_key_id="x", aws_secret_access_key="y",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2),
    )
    with pytest.raises(StateUnreadable, match=rf"cannot reach S3 to read s3://{BUCKET}/{KEY} \(EndpointConnectionError"):
        S3StateReader(BUCKET, client).read(KEY)


# --- the command line: one line, exit 5, nothing skipped, no traceback --------------------------


def run_cli(tmp_path, capsys, *command: str) -> tuple[int, str, str]:
    write_aws_synth(tmp_path / "out", "dev")
    code = main([*command, "--target", "aws", "--skip-synth", "--outdir", str(tmp_path / "out"), "--workdir", str(tmp_path / "work")])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("command", [("status", "dev"), ("down", "dev"), ("destroy", "dev", "edge"), ("deploy", "dev", "network")])
def test_a_wrong_state_bucket_stops_every_command_before_anything_runs(command, tmp_path, capsys, mock_state_bucket, monkeypatch):
    monkeypatch.setenv("FRAUD_STATE_BUCKET", "acme-payments-fraud-tfstate-typo")
    code, out, err = run_cli(tmp_path, capsys, *command)
    assert code == EXIT_STATE_UNREADABLE
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("state unreadable: the state bucket acme-payments-fraud-tfstate-typo does not exist")
    assert "scripts/lifecycle.sh bootstrap dev --target aws" in lines[0]
    assert "Traceback" not in err + out
    assert "not deployed" not in out and "skipped" not in out and "not attempted" not in out
    assert not (tmp_path / "work" / "logs").exists(), "no Terraform ran"


def test_missing_credentials_stop_status_with_one_line(no_credentials, tmp_path, capsys):
    code, out, err = run_cli(tmp_path, capsys, "status", "dev")
    assert code == EXIT_STATE_UNREADABLE
    # status reads the first layer's lock, then its state: whichever comes first is named.
    assert re.fullmatch(
        r"state unreadable: no AWS credentials to read s3://acme-payments-fraud-tfstate/dev/network\.tfstate(\.tflock)?: "
        r"set a profile \(AWS_PROFILE\) or the AWS_\* variables, or in CI assume the role first",
        err.strip(),
    ), err
    assert out == ""


def test_access_denied_on_status_is_one_line_naming_bucket_and_key(tmp_path, capsys, monkeypatch):
    import lifecycle.cli

    def denied(self, service):
        client = boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
        stubber = Stubber(client)
        stubber.add_client_error("get_object", service_error_code="AccessDenied", service_message="Access Denied", http_status_code=403)
        stubber.activate()
        return client

    monkeypatch.setattr(lifecycle.cli.TargetClients, "client", denied)
    code, out, err = run_cli(tmp_path, capsys, "status", "dev")
    assert code == EXIT_STATE_UNREADABLE
    assert re.match(r"state unreadable: access denied reading s3://acme-payments-fraud-tfstate/dev/network\.tfstate(\.tflock)? \(Access Denied\)", err), err
    assert len(err.strip().splitlines()) == 1 and out == ""


@pytest.mark.parametrize(("code", "exists"), [("404", False), ("NoSuchBucket", False)])
def test_bootstrap_creates_the_bucket_only_when_s3_says_it_is_missing(code, exists):
    from lifecycle.operations import _bucket_exists

    client, stubber = stubbed_s3()
    stubber.add_client_error("head_bucket", service_error_code=code, http_status_code=404)
    stubber.activate()
    assert _bucket_exists(client, BUCKET) is exists


def test_bootstrap_does_not_take_a_refused_bucket_for_a_missing_one():
    # Bucket names are global: a 403 is most often someone else's bucket, never one to create.
    from lifecycle.operations import _bucket_exists

    client, stubber = stubbed_s3()
    stubber.add_client_error("head_bucket", service_error_code="403", service_message="Forbidden", http_status_code=403)
    stubber.activate()
    with pytest.raises(StateUnreadable, match=rf"access denied reading the state bucket {BUCKET} .*belongs to another account"):
        _bucket_exists(client, BUCKET)
