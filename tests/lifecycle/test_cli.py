"""The command line: exit codes, and the image check the promotion workflow relies on."""

from __future__ import annotations

import json

import pytest

from lifecycle.cli import EXIT_REFUSED, EXIT_USAGE, main
from lifecycle.saved_plans import LayerPlan, StateVersion, file_sha256, write_layer, write_manifest
from stacks.layers import Layer, stack_id, state_key
from tests.lifecycle.fakes import state_document, write_aws_synth


def write_compute_stack(outdir, environment: str, image: str) -> None:
    directory = outdir / "stacks" / stack_id(Layer.COMPUTE, environment)
    directory.mkdir(parents=True)
    containers = [
        {"name": "fraud-api", "image": f"${{data.aws_caller_identity.c.account_id}}.dkr.ecr.us-east-1.amazonaws.com/{image}"},
        {"name": "xray-daemon", "image": "public.ecr.aws/xray/aws-xray-daemon:3.3.12"},
    ]
    config = {"resource": {"aws_ecs_task_definition": {"api": {"container_definitions": json.dumps(containers)}}}}
    (directory / "cdk.tf.json").write_text(json.dumps(config))


DIGEST = "fraud-api@sha256:" + "a" * 64


def test_the_image_check_accepts_the_promoted_digest(tmp_path, capsys):
    write_compute_stack(tmp_path, "staging", DIGEST)
    assert main(["image", "staging", DIGEST, "--outdir", str(tmp_path), "--workdir", str(tmp_path / "work")]) == 0
    assert f"staging deploys {DIGEST}" in capsys.readouterr().out


def test_the_image_check_refuses_anything_else(tmp_path, capsys):
    write_compute_stack(tmp_path, "staging", "fraud-api:latest")
    assert main(["image", "staging", DIGEST, "--outdir", str(tmp_path), "--workdir", str(tmp_path / "work")]) == EXIT_USAGE
    assert "not fraud-api@sha256" in capsys.readouterr().err


def test_an_unknown_layer_is_a_usage_error(tmp_path, capsys):
    write_compute_stack(tmp_path, "dev", DIGEST)
    code = main(["destroy", "dev", "netwrok", "--target", "aws", "--skip-synth", "--outdir", str(tmp_path), "--workdir", str(tmp_path / "work")])
    assert code == EXIT_USAGE
    assert "unknown layer" in capsys.readouterr().err


def test_emulator_commands_need_a_running_emulator(tmp_path, capsys):
    assert main(["status", "dev", "--workdir", str(tmp_path)]) == EXIT_USAGE
    assert "no emulator is running" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["up", "down", "deploy", "destroy", "plan", "apply", "status", "bootstrap", "prerequisites", "synth", "emulator", "image"])
def test_every_command_documents_itself(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert "--target" in capsys.readouterr().out


def test_saved_plans_are_never_made_with_placeholders_everywhere(tmp_path, capsys):
    write_aws_synth(tmp_path / "out", "dev")
    code = main(["plan", "dev", "--save", str(tmp_path / "plans"), "--mock-upstream", "--target", "aws", "--skip-synth",
                 "--outdir", str(tmp_path / "out"), "--workdir", str(tmp_path / "work")])
    assert code == EXIT_USAGE
    assert "--mock-upstream plans cannot be saved" in capsys.readouterr().err
    assert not (tmp_path / "plans").exists()


def test_a_stale_saved_plan_is_refused_in_one_line_with_the_guards_exit_code(tmp_path, capsys, mock_state_bucket):
    """Through the command line, against the state bucket (moto): the plan was made at serial 6, the state is at 7 now."""
    outdir, plans = tmp_path / "out", tmp_path / "plans"
    write_aws_synth(outdir, "dev")
    key = state_key("dev", Layer.NETWORK)
    mock_state_bucket.client.put_object(Bucket=mock_state_bucket.name, Key=key, Body=json.dumps(state_document(3, serial=7)))
    plan = LayerPlan(layer="network", stack="network-dev", state_key=key, state=StateVersion(6, "lineage-1"),
                     config_sha256=file_sha256(outdir / "stacks" / "network-dev" / "cdk.tf.json"))
    write_layer(plans, plan, {})
    write_manifest(plans, environment="dev", target="aws", planned_at="2026-12-02T08:00:00+00:00", stacks=["network-dev"], failed=[])

    code = main(["apply", "dev", "--plans", str(plans), "--target", "aws", "--outdir", str(outdir), "--workdir", str(tmp_path / "work")])
    assert code == EXIT_REFUSED
    error = capsys.readouterr().err.strip()
    assert error.startswith("refused: refusing to apply the saved plan of network-dev: its state moved since the plan "
                            "(planned against serial 6, now serial 7); plan again (scripts/lifecycle.sh plan dev --save ")
    assert "\n" not in error
