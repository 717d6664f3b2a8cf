"""The environment every Terraform run gets: the project's CLI config and a lazier Go garbage collector."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from scripts import terraform_cli
from scripts.terraform_cli import CLI_CONFIG_FILE, CLI_CONFIG_VERSION, PROVIDER_GOGC, discover_mirror, holds_aws_provider, render_cli_config, terraform_env


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



def test_a_cli_config_written_by_an_older_version_is_written_again(tmp_path, monkeypatch):
    config = tmp_path / "terraformrc"
    config.write_text('plugin_cache_dir = "/somewhere"\n')
    monkeypatch.setattr(terraform_cli, "CLI_CONFIG_FILE", config)
    monkeypatch.setattr(terraform_cli, "PLUGIN_CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(terraform_cli, "discover_mirror", lambda env: None)
    terraform_cli.ensure_cli_config({})
    assert config.read_text() == render_cli_config(None, tmp_path / "cache")
    assert config.read_text().startswith(CLI_CONFIG_VERSION + "\n")


PROVIDER_ONLY = 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = "5.100.0" }\n  }\n}\n'


@pytest.mark.skipif(discover_mirror() is None, reason="needs the machine's provider mirror (an init from the registry downloads ~700 MB)")
def test_an_init_of_a_new_directory_links_the_cached_provider_without_re_creating_it(tmp_path):
    """The cache entry that other directories link to stays in place while a fresh directory is initialised:
    a validate, plan or apply reading it meanwhile cannot find it missing."""
    # Deeper than the mirror search looks (find -maxdepth 6), so no search takes this cache for a mirror.
    cache = tmp_path / "a" / "b" / "c" / "d" / "plugin-cache"
    config = tmp_path / "terraformrc"
    config.write_text(render_cli_config(discover_mirror(), cache))
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(config), "CHECKPOINT_DISABLE": "1"}
    try:
        entries = []
        for name in ("first", "second"):
            directory = tmp_path / name
            directory.mkdir()
            (directory / "main.tf").write_text(PROVIDER_ONLY)
            subprocess.run(["terraform", "init", "-input=false", "-no-color"], cwd=directory, env=env, check=True, capture_output=True)
            [entry] = cache.glob("registry.terraform.io/hashicorp/aws/5.100.0/*")
            # The inode number alone can come back for a re-created entry; its change time cannot.
            status = os.lstat(entry)
            entries.append((status.st_ino, status.st_ctime_ns))
        assert entries[0] == entries[1], "the second init deleted and re-created the cached provider"
    finally:
        shutil.rmtree(tmp_path / "a", ignore_errors=True)
