"""`lifecycle drift` and `lifecycle plan --detailed-exitcode`: what changed, layer by layer, and exit codes a job can act on.

Terraform is tests/lifecycle/fake_terraform.py replaying what real Terraform printed against the
emulator (tests/lifecycle/streams/, `python -m tests.lifecycle.streams.record --only drift`): a
refresh-only plan after a KMS key's description and an SSM parameter's value were changed with
boto3, its `show -json`, a clean one, and the ordinary plan that would undo the change. The state
bucket is moto's in-process mock.
"""

from __future__ import annotations

import json
import re

import pytest

from lifecycle.cli import main
from lifecycle.states import state_key
from stacks.layers import DEPLOY_ORDER, Layer
from tests.lifecycle.fakes import FakeTerraform, state_document, write_aws_synth

# The SSM parameter's value set outside Terraform: sensitive, so it must never be printed or reported.
SECRET = "out-of-band-secret-value"


@pytest.fixture
def fake(tmp_path, monkeypatch):
    fake = FakeTerraform(tmp_path / "fake", speed=500)
    fake.install_for_the_lifecycle(monkeypatch)
    write_aws_synth(tmp_path / "out", "dev")
    return fake


def deployed(bucket, *layers: Layer) -> None:
    for layer in layers:
        bucket.client.put_object(Bucket=bucket.name, Key=state_key("dev", layer), Body=json.dumps(state_document(5)).encode())


def run(tmp_path, *args: str) -> int:
    return main([*args, "--target", "aws", "--skip-synth", "--outdir", str(tmp_path / "out"), "--workdir", str(tmp_path / "work")])


def test_drift_names_each_drifted_layer_resource_and_attribute_and_exits_2(tmp_path, fake, mock_state_bucket, capsys):
    fake.replays("plan -refresh-only", "drift.plan.jsonl")
    fake.prints("show", "drift.show.json")
    deployed(mock_state_bucket, *Layer)
    report_file, summary_file = tmp_path / "drift.json", tmp_path / "summary.md"
    summary_file.write_text("earlier steps\n")

    code = run(tmp_path, "drift", "dev", "--drift-report", str(report_file), "--summary", str(summary_file))
    out = capsys.readouterr().out
    assert code == 2, out
    for layer in DEPLOY_ORDER:
        assert re.search(rf"^    {layer.value}-dev\s+drifted: aws_kms_key\.key \(description\); aws_ssm_parameter\.setting \(value, version\)$", out, re.M), out
    assert '      aws_kms_key.key: update\n        description: "recording" -> "changed outside Terraform"' in out
    assert "value: (sensitive value) -> (sensitive value)" in out
    assert re.search(r"^\[1/5\] network-dev\s+checked for drift in [\d.]+ s \(drift in 2 resources\)$", out, re.M), out

    report = json.loads(report_file.read_text())
    assert (report["environment"], report["target"], report["drifted"], report["failed"]) == ("dev", "aws", True, [])
    network = report["layers"][0]
    assert (network["stack"], network["status"]) == ("network-dev", "drifted")
    assert network["resources"][0] == {
        "address": "aws_kms_key.key", "action": "update", "replaced_for": [],
        "attributes": [{"path": "description", "before": "recording", "after": "changed outside Terraform"}],
    }
    summary = summary_file.read_text()
    assert summary.startswith("earlier steps\n### Drift in dev (aws): drift found")
    assert "| network-dev | **drifted** | `aws_kms_key.key (description)`<br>`aws_ssm_parameter.setting (value, version)` |" in summary
    # A value Terraform marks sensitive is never printed, reported or summarised.
    assert SECRET not in out and SECRET not in report_file.read_text() and SECRET not in summary


def test_drift_plans_only_read_take_no_lock_and_leave_no_saved_plan(tmp_path, fake, mock_state_bucket):
    fake.replays("plan -refresh-only", "drift.plan.jsonl")
    fake.prints("show", "drift.show.json")
    deployed(mock_state_bucket, *Layer)
    assert run(tmp_path, "drift", "dev") == 2
    log = (tmp_path / "work" / "logs" / "network-dev.drift.log").read_text()
    command = log.splitlines()[0]
    assert "terraform plan -input=false -lock=false" in command and "-refresh-only" in command, command
    # Saved plans hold state values (API key values among them): none is left behind.
    assert not list((tmp_path / "work" / "plans").glob("*"))
    assert json.loads((tmp_path / "work" / "drift-dev.json").read_text())["drifted"] is True


def test_no_drift_exits_0_without_reading_any_saved_plan(tmp_path, fake, mock_state_bucket, capsys):
    fake.replays("plan -refresh-only", "clean.drift.plan.jsonl")
    # `show` is not configured: reading a saved plan would fail the run.
    deployed(mock_state_bucket, *Layer)
    assert run(tmp_path, "drift", "dev") == 0
    out = capsys.readouterr().out
    assert "==> drift dev: no drift" in out
    for layer in DEPLOY_ORDER:
        assert re.search(rf"^    {layer.value}-dev\s+clean$", out, re.M), out


def test_layers_that_are_not_deployed_are_not_planned(tmp_path, fake, mock_state_bucket, capsys):
    fake.replays("plan -refresh-only", "clean.drift.plan.jsonl")
    deployed(mock_state_bucket, Layer.NETWORK, Layer.DATA)
    assert run(tmp_path, "drift", "dev") == 0
    out = capsys.readouterr().out
    assert re.search(r"^    compute-dev\s+not deployed$", out, re.M), out
    assert sorted(path.name for path in (tmp_path / "work" / "logs").glob("*.drift.log")) == ["data-dev.drift.log", "network-dev.drift.log"]


def test_a_drift_check_that_fails_exits_1_and_says_which_layer(tmp_path, fake, mock_state_bucket, capsys):
    fake.replays("plan -refresh-only", "failed.apply.jsonl", exit_code=1)
    deployed(mock_state_bucket, Layer.NETWORK)
    report_file = tmp_path / "drift.json"
    assert run(tmp_path, "drift", "dev", "network", "--drift-report", str(report_file)) == 1
    assert re.search(r"^    network-dev\s+failed$", capsys.readouterr().out, re.M)
    assert json.loads(report_file.read_text())["failed"] == ["network-dev"]


@pytest.mark.parametrize("arguments", [["drift", "dev", "netwrok"], ["drift"], ["plan", "dev", "netwrok", "--detailed-exitcode"]])
def test_bad_usage_of_a_detailed_exit_code_command_is_1_not_2(tmp_path, arguments, capsys):
    # 2 means "there are changes" to a job reading the exit code; a typo must not look like drift.
    assert run(tmp_path, *arguments) == 1


def test_a_plan_with_changes_lists_the_attributes_and_exits_2_with_detailed_exitcode(tmp_path, fake, mock_state_bucket, capsys):
    fake.replays("plan", "update.plan.jsonl")
    fake.prints("show", "update.show.json")
    deployed(mock_state_bucket, *Layer)
    assert run(tmp_path, "plan", "dev", "observability", "--detailed-exitcode") == 2
    out = capsys.readouterr().out
    block = out[out.index("==> what the plans change"):]
    assert block.startswith("==> what the plans change\n    observability-dev: Plan: 0 to add, 2 to change, 0 to destroy.\n      aws_kms_key.key: update\n")
    assert '        description: "changed outside Terraform" -> "recording"' in block
    assert "        version: 2 -> (known after apply)" in block
    assert SECRET not in out
    # Without the flag a plan that changes something is still a successful plan.
    assert run(tmp_path, "plan", "dev", "observability") == 0


def test_a_plan_without_changes_exits_0_with_detailed_exitcode(tmp_path, fake, mock_state_bucket, capsys):
    fake.replays("plan", "clean.drift.plan.jsonl")
    deployed(mock_state_bucket, *Layer)
    assert run(tmp_path, "plan", "dev", "--detailed-exitcode") == 0
    assert "what the plans change" not in capsys.readouterr().out
