"""The environment every Terraform run gets: the project's CLI config and a lazier Go garbage collector."""

from __future__ import annotations

from scripts.terraform_cli import CLI_CONFIG_FILE, PROVIDER_GOGC, holds_aws_provider, terraform_env


def test_terraform_runs_with_the_projects_cli_config_and_without_checkpoint_calls():
    env = terraform_env({"PATH": "/usr/bin"})
    assert env["TF_CLI_CONFIG_FILE"] == str(CLI_CONFIG_FILE)
    assert env["CHECKPOINT_DISABLE"] == "1"
    assert env["PATH"] == "/usr/bin"


def test_the_provider_gets_a_lazier_garbage_collector_unless_one_is_chosen():
    assert terraform_env({})["GOGC"] == PROVIDER_GOGC
    assert terraform_env({"GOGC": "100"})["GOGC"] == "100"


def test_only_a_directory_holding_an_executable_provider_counts_as_a_mirror(tmp_path):
    # Named otherwise than a registry directory, so that no mirror search on this machine finds it.
    registry = tmp_path / "registry"
    package = registry / "hashicorp/aws/5.100.0/linux_amd64"
    package.mkdir(parents=True)
    # An empty plugin cache, or one with a file that cannot run, is no mirror.
    assert not holds_aws_provider(registry)
    binary = package / "terraform-provider-aws_v5.100.0_x5"
    binary.write_text("not a provider")
    assert not holds_aws_provider(registry)
    binary.chmod(0o755)
    assert holds_aws_provider(registry)
    binary.unlink()

