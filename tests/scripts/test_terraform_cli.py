"""The environment every Terraform run gets: the project's CLI config and a lazier Go garbage collector."""

from __future__ import annotations

from scripts.terraform_cli import CLI_CONFIG_FILE, PROVIDER_GOGC, terraform_env


def test_terraform_runs_with_the_projects_cli_config_and_without_checkpoint_calls():
    env = terraform_env({"PATH": "/usr/bin"})
    assert env["TF_CLI_CONFIG_FILE"] == str(CLI_CONFIG_FILE)
    assert env["CHECKPOINT_DISABLE"] == "1"
    assert env["PATH"] == "/usr/bin"


def test_the_provider_gets_a_lazier_garbage_collector_unless_one_is_chosen():
    assert terraform_env({})["GOGC"] == PROVIDER_GOGC
    assert terraform_env({"GOGC": "100"})["GOGC"] == "100"
