"""On AWS the lifecycle names the state bucket after the account, and refuses placeholders before any change."""

from __future__ import annotations

import pytest
from botocore.exceptions import NoCredentialsError

from config.settings import ConfigError
from lifecycle.account import with_account_id
from lifecycle.cli import EXIT_USAGE, main

ACCOUNT = "123456789012"


class FakeSts:
    def __init__(self, answer: dict | Exception) -> None:
        self.answer = answer
        self.calls = 0

    def get_caller_identity(self) -> dict:
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_the_account_comes_from_sts_when_nothing_names_the_bucket():
    sts = FakeSts({"Account": ACCOUNT, "Arn": "arn:aws:iam::123456789012:role/deployer"})
    assert with_account_id({"FRAUD_HOSTED_ZONE": "x.acme.io"}, lambda: sts) == {"FRAUD_HOSTED_ZONE": "x.acme.io", "FRAUD_AWS_ACCOUNT_ID": ACCOUNT}
    assert sts.calls == 1


@pytest.mark.parametrize("env", [{"FRAUD_STATE_BUCKET": "acme-tfstate"}, {"FRAUD_AWS_ACCOUNT_ID": "210987654321"}])
def test_a_bucket_or_account_given_is_used_without_asking_sts(env):
    sts = FakeSts(AssertionError("STS must not be called"))
    assert with_account_id(env, lambda: sts) == env and sts.calls == 0


def test_without_credentials_the_error_says_which_variable_to_set():
    with pytest.raises(ConfigError, match="set one of them, or run with AWS credentials"):
        with_account_id({}, lambda: FakeSts(NoCredentialsError()))


@pytest.fixture
def clean_environment(monkeypatch):
    for variable in ("FRAUD_STATE_BUCKET", "FRAUD_AWS_ACCOUNT_ID", "FRAUD_HOSTED_ZONE", "FRAUD_ALARM_EMAIL", "FRAUD_ENVIRONMENTS"):
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


@pytest.mark.parametrize("command", [["deploy", "dev", "network"], ["bootstrap", "dev"], ["synth", "dev"], ["plan", "dev"]])
def test_a_deploy_to_aws_with_placeholders_stops_before_anything_runs(command, clean_environment, tmp_path, capsys):
    clean_environment.setenv("FRAUD_AWS_ACCOUNT_ID", ACCOUNT)
    code = main([*command, "--target", "aws", "--skip-synth", "--outdir", str(tmp_path / "out"), "--workdir", str(tmp_path / "work")])
    assert code == EXIT_USAGE
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "FRAUD_HOSTED_ZONE" in error[0] and "FRAUD_ALARM_EMAIL" in error[0]
    assert not (tmp_path / "out").exists() and not (tmp_path / "work" / "logs").exists()
