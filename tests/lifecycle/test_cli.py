"""The command line: exit codes, and the image check the promotion workflow relies on."""

from __future__ import annotations

import json

import pytest

from lifecycle.cli import EXIT_USAGE, main
from stacks.layers import Layer, stack_id


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


@pytest.mark.parametrize("command", ["up", "down", "deploy", "destroy", "plan", "status", "bootstrap", "prerequisites", "synth", "emulator", "image"])
def test_every_command_documents_itself(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert "--target" in capsys.readouterr().out
