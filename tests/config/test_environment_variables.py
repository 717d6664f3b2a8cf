"""The process environment, read into validated settings and a deployment target."""

from __future__ import annotations

import pytest

from config.environment_variables import (
    DEFAULT_EMULATOR_ENDPOINT,
    read_account,
    read_environments,
    read_target,
    refuse_placeholders_for_aws,
)
from config.environments import DEFAULT_STATE_BUCKET
from config.settings import ConfigError


def test_environment_variables_select_and_pin():
    selected = read_environments({"FRAUD_ENVIRONMENTS": "staging", "FRAUD_API_IMAGE": "fraud-api@sha256:" + "a" * 64})
    assert [config.name for config in selected] == ["staging"]
    assert selected[0].compute.fraud_api_image.endswith("a" * 64)
    assert read_target({}).is_emulator is False
    assert read_target({"FRAUD_TARGET": "emulator"}).emulator_endpoint == DEFAULT_EMULATOR_ENDPOINT


def test_an_unknown_target_is_refused_naming_the_choices():
    with pytest.raises(ConfigError, match="FRAUD_TARGET is 'localstack'; use 'aws' or 'emulator'"):
        read_target({"FRAUD_TARGET": "localstack"})


ACCOUNT = "123456789012"
REAL = {"FRAUD_HOSTED_ZONE": "payments.acme-bank.io", "FRAUD_ALARM_EMAIL": "fraud-oncall@acme-bank.io"}


def test_the_state_bucket_is_the_accounts_own_once_the_account_is_known():
    assert read_account({}).state.bucket == DEFAULT_STATE_BUCKET
    derived = f"fraud-detection-tfstate-{ACCOUNT}-us-east-1"
    assert read_account({"FRAUD_AWS_ACCOUNT_ID": ACCOUNT}).state.bucket == derived
    assert {config.state.bucket for config in read_environments({"FRAUD_AWS_ACCOUNT_ID": ACCOUNT})} == {derived}
    # An explicit bucket wins over the derived one.
    assert read_account({"FRAUD_AWS_ACCOUNT_ID": ACCOUNT, "FRAUD_STATE_BUCKET": "acme-tfstate"}).state.bucket == "acme-tfstate"


def test_an_account_id_that_is_not_twelve_digits_is_refused():
    with pytest.raises(ConfigError, match="FRAUD_AWS_ACCOUNT_ID is '1234'; an AWS account id is 12 digits"):
        read_account({"FRAUD_AWS_ACCOUNT_ID": "1234"})


@pytest.mark.parametrize(
    "env, named, not_named",
    [
        ({}, ["FRAUD_AWS_ACCOUNT_ID", "FRAUD_STATE_BUCKET", "FRAUD_HOSTED_ZONE", "FRAUD_ALARM_EMAIL"], []),
        ({"FRAUD_AWS_ACCOUNT_ID": ACCOUNT}, ["FRAUD_HOSTED_ZONE", "FRAUD_ALARM_EMAIL"], ["FRAUD_STATE_BUCKET"]),
        ({**REAL, "FRAUD_HOSTED_ZONE": "fraud.example.org"}, ["FRAUD_AWS_ACCOUNT_ID", "FRAUD_HOSTED_ZONE"], ["FRAUD_ALARM_EMAIL"]),
        ({**REAL, "FRAUD_STATE_BUCKET": "acme-tfstate", "FRAUD_ALARM_EMAIL": "me@example.com"}, ["FRAUD_ALARM_EMAIL"], ["FRAUD_HOSTED_ZONE", "FRAUD_STATE_BUCKET"]),
    ],
)
def test_placeholders_are_refused_before_a_deploy_to_aws_in_one_line_naming_each_variable(env, named, not_named):
    with pytest.raises(ConfigError) as refused:
        refuse_placeholders_for_aws(env)
    message = str(refused.value)
    assert "\n" not in message and message.startswith("before deploying to AWS set ")
    assert all(variable in message for variable in named), message
    assert not any(variable in message for variable in not_named), message


def test_real_settings_pass_and_the_defaults_still_serve_the_emulator_and_tests():
    refuse_placeholders_for_aws({**REAL, "FRAUD_AWS_ACCOUNT_ID": ACCOUNT})
    refuse_placeholders_for_aws({**REAL, "FRAUD_STATE_BUCKET": "acme-tfstate"})
    # Reading the defaults is still fine: only a deploy to AWS refuses them.
    assert read_environments({})[0].observability.alarm_email.endswith("@example.com")
