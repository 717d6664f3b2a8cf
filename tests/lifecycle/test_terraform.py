"""StackDirectory drives Terraform's -json UI: a human-readable log, the raw events, the run's progress, its failure."""

from __future__ import annotations

import json
import os
import re

import pytest

from lifecycle.terraform import StackDirectory, TerraformFailed
from tests.lifecycle.fakes import STREAMS, FakeTerraform


@pytest.fixture
def fake(tmp_path):
    return FakeTerraform(tmp_path / "fake", speed=200)


def stack(tmp_path, fake, **options) -> StackDirectory:
    directory = tmp_path / "stacks" / "network-dev"
    directory.mkdir(parents=True)
    return StackDirectory(directory, fake.environment(dict(os.environ)), tmp_path / "logs", **options)


def test_an_apply_is_read_event_by_event_and_logged_as_terraform_would_print_it(tmp_path, fake):
    fake.replays("apply", "long_wait.apply.jsonl")
    seen = []
    run = stack(tmp_path, fake, observe=lambda run, finished: seen.append((run.done, finished and finished.address))).apply()

    assert (run.done, run.planned, run.changes) == (3, 3, {"added": 3, "changed": 0, "destroyed": 0})
    # Timings come from Terraform's own timestamps, not from how fast the stream was read.
    assert run.slowest.address == "aws_s3_bucket_lifecycle_configuration.logs"
    assert 54 < run.slowest.seconds < 57
    assert seen[0] == (0, None)  # told once before the first event, so the display knows Terraform started
    assert (2, "aws_sqs_queue.alerts") in seen and seen[-1][0] == 3

    log = (tmp_path / "logs" / "network-dev.apply.log").read_text()
    assert log.startswith("==> terraform apply -auto-approve -input=false -lock-timeout=120s -json at ")
    assert re.search(r"^\s+\+\d+\.\ds aws_s3_bucket_lifecycle_configuration\.logs: Creation complete after 55s", log, re.M), log
    assert "{" not in log  # the human log holds no JSON
    events = (tmp_path / "logs" / "network-dev.apply.jsonl").read_text().splitlines()
    assert events == (STREAMS / "long_wait.apply.jsonl").read_text().splitlines()


def test_a_failed_apply_carries_the_failing_resource_and_its_diagnostic(tmp_path, fake):
    fake.replays("apply", "failed.apply.jsonl", exit_code=1)
    with pytest.raises(TerraformFailed) as failure:
        stack(tmp_path, fake).apply()
    run = failure.value.run
    assert run.failing_resources() == ["aws_iam_role_policy_attachment.missing"]
    assert [error.summary.split(":")[0] for error in run.errors] == ["attaching IAM Policy (arn"]
    assert failure.value.excerpt.startswith("Error: attaching IAM Policy")
    log = (tmp_path / "logs" / "network-dev.apply.log").read_text()
    assert "  with aws_iam_role_policy_attachment.missing" in log


def test_verbose_echoes_the_human_lines_and_plans_say_their_summary(tmp_path, fake):
    fake.replays("plan", "plan.jsonl")
    echoed: list[str] = []
    run = stack(tmp_path, fake, echo=echoed.append).plan(lock=False)
    assert run.plan_line == "Plan: 5 to add, 0 to change, 0 to destroy."
    assert "aws_kms_key.key: Plan to create" in echoed
    assert not any(line.startswith("{") for line in echoed)


def test_text_commands_stay_text(tmp_path, fake):
    stack(tmp_path, fake).init()
    log = (tmp_path / "logs" / "network-dev.init.log").read_text()
    assert "fake terraform init: done" in log
    assert not (tmp_path / "logs" / "network-dev.init.jsonl").exists()
    assert json.loads(fake.config_file.read_text())["commands"] == {}


def test_a_saved_plan_is_made_with_out_and_applied_with_the_plan_file_after_every_option(tmp_path, fake):
    fake.replays("plan", "plan.jsonl")
    fake.replays("apply", "apply.jsonl")
    directory = stack(tmp_path, fake)
    directory.plan(lock=False, out=tmp_path / "plans" / "tfplan")
    planned_counts = []
    directory.observe = lambda run, finished: planned_counts.append(run.planned)
    run = directory.apply_plan(tmp_path / "plans" / "tfplan", planned={"added": 5, "changed": 0, "destroyed": 0})

    plan_log = (tmp_path / "logs" / "network-dev.plan.log").read_text()
    assert plan_log.startswith(f"==> terraform plan -input=false -lock=false -lock-timeout=120s -out={tmp_path}/plans/tfplan -json at ")
    apply_log = (tmp_path / "logs" / "network-dev.apply.log").read_text()
    # Terraform reads no option after the plan file: -json must come before it.
    assert apply_log.startswith(f"==> terraform apply -input=false -lock-timeout=120s -json {tmp_path}/plans/tfplan at ")
    # A saved plan's apply does not print the plan again: the counts start from what the plan said.
    assert planned_counts[0] == 5 and (run.done, run.changes["added"]) == (5, 5)


def test_init_is_skipped_while_what_it_depends_on_is_unchanged(tmp_path, fake):
    directory = stack(tmp_path, fake)
    (directory.directory / "cdk.tf.json").write_text(json.dumps({"terraform": {"backend": {"s3": {"key": "dev/network.tfstate"}}}}))
    provider = _installed_provider(directory.directory, tmp_path / "plugin-cache")
    inits = lambda: (tmp_path / "logs" / "network-dev.init.log").read_text().count("==> terraform init")

    directory.init()
    directory.init()
    assert inits() == 1
    # Another backend (a new emulator's endpoint), another provider lock or another synth: init again.
    directory.backend_config = {"endpoint": "http://127.0.0.1:4567"}
    directory.init()
    assert inits() == 2
    (directory.directory / ".terraform.lock.hcl").write_text('provider "registry.terraform.io/hashicorp/aws" {}\n')
    directory.init()
    directory.init()
    assert inits() == 3
    (directory.directory / "cdk.tf.json").write_text(json.dumps({"terraform": {"backend": {"s3": {"key": "dev/data.tfstate"}}}}))
    directory.init()
    assert inits() == 4
    # The plugin cache its provider links into was cleared: Terraform would refuse to run until init.
    provider.unlink()
    directory.init()
    assert inits() == 5


def test_init_always_runs_where_nothing_was_synthesized_or_initialized(tmp_path, fake):
    directory = stack(tmp_path, fake)
    directory.init()
    directory.init()
    assert (tmp_path / "logs" / "network-dev.init.log").read_text().count("==> terraform init") == 2


def _installed_provider(directory, plugin_cache):
    """What init leaves with a plugin cache: the package directory under `.terraform/providers` is a
    link to the cache's; returns the cached binary. (The stand-in cache is not laid out as a
    registry, so no mirror search on this machine mistakes it for one.)"""
    binary = plugin_cache / "aws-5.100.0-linux_amd64" / "terraform-provider-aws_v5.100.0_x5"
    binary.parent.mkdir(parents=True)
    binary.write_text("provider")
    link = directory / ".terraform/providers/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64"
    link.parent.mkdir(parents=True)
    link.symlink_to(binary.parent)
    return binary

