"""The GitHub workflows: actionlint-clean, OIDC-only, building one image and promoting it through the environments in order:
plan (saved, summarized, read-only), apply exactly those plans, release through CodeDeploy, smoke test; the next
environment only after the smoke test."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from config.environments import build_environments
from scripts.paths import REPO_ROOT
from stacks.layers import Layer

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


ENVIRONMENTS = list(build_environments())
CONFIGURE_CREDENTIALS = "aws-actions/configure-aws-credentials@"
DEPLOY_ACTION = "aws-actions/amazon-ecs-deploy-task-definition@v2"
# The action's inputs (its action.yml at v2): actionlint knows the Docker actions' inputs but not this one's.
DEPLOY_ACTION_INPUTS = {
    "task-definition", "desired-count", "service", "cluster", "wait-for-service-stability", "wait-for-minutes",
    "codedeploy-appspec", "codedeploy-application", "codedeploy-deployment-group", "codedeploy-deployment-description",
    "force-new-deployment", "run-task", "enable-ecs-managed-tags", "propagate-tags",
}


def steps_named(job: dict) -> dict[str, dict]:
    return {step["name"]: step for step in job["steps"] if "name" in step}


def index_of(job: dict, predicate) -> int:
    (index,) = [position for position, step in enumerate(job["steps"]) if predicate(step)]
    return index


# A lifecycle command on AWS; `synth` and `image` only write or read files.
LIFECYCLE_ON_AWS = re.compile(r"(\$LIFECYCLE|python -m lifecycle) (?!synth |image )\w+ .*--target aws")
AWS_CLI = re.compile(r"(^|\$\(|\|\s*)aws [a-z0-9-]+ ", re.MULTILINE)


def is_aws_step(step: dict) -> bool:
    """A step that calls AWS: an AWS action, a push to ECR, the AWS CLI or the lifecycle on AWS."""
    uses, run = step.get("uses", ""), step.get("run", "")
    return bool(
        (uses.startswith("aws-actions/") and not uses.startswith(CONFIGURE_CREDENTIALS))
        or (uses.startswith("docker/build-push-action@") and str(step.get("with", {}).get("push")).lower() == "true")
        or LIFECYCLE_ON_AWS.search(run)
        or AWS_CLI.search(run)
    )


def test_promotion_builds_and_tests_synthesizes_once_then_each_environment_in_order():
    jobs = load("promote.yml")["jobs"]
    assert jobs["build"]["uses"] == "./.github/workflows/build-image.yml"
    assert sorted(jobs["synth"]["needs"]) == ["build", "test"]
    previous = "synth"
    for environment in ENVIRONMENTS:
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


def test_the_image_is_built_after_the_services_own_tests_and_handed_over_by_digest():
    workflow = load("build-image.yml")
    jobs = workflow["jobs"]
    assert jobs["image"]["needs"] == "service-tests"
    tests = next(step["run"] for step in jobs["service-tests"]["steps"] if "pytest" in step.get("run", ""))
    assert "tests/services/fraud_api" in tests
    build = next(step for step in jobs["image"]["steps"] if step.get("uses", "").startswith("docker/build-push-action@"))
    assert build["with"]["file"] == "services/fraud_api/Dockerfile" and build["with"]["context"] == "services"
    assert build["with"]["cache-from"].startswith("type=gha") and build["with"]["cache-to"].startswith("type=gha")
    assert index_of(jobs["image"], lambda step: step.get("uses", "").startswith("docker/setup-buildx-action@")) < index_of(jobs["image"], lambda step: step is build)
    # The output is the digest the build reported (or the one this commit's tag already has), as fraud-api@sha256:...
    assert workflow["on"]["workflow_call"]["outputs"]["image"]["value"] == "${{ jobs.image.outputs.image }}"
    assert jobs["image"]["outputs"]["image"] == "${{ steps.pinned.outputs.image }}"
    pinned = steps_named(jobs["image"])["The image promotion deploys, pinned by digest"]
    assert pinned["env"]["BUILT"] == f"${{{{ steps.{build['id']}.outputs.digest }}}}"
    assert 'echo "image=$REPOSITORY@$digest"' in pinned["run"] and workflow["env"]["REPOSITORY"] == "fraud-api"


def test_each_environment_plans_then_applies_behind_its_environment_then_releases_then_smoke_tests():
    workflow = load("deploy-environment.yml")
    jobs = workflow["jobs"]
    assert list(jobs) == ["plan", "apply", "smoke"]
    assert jobs["apply"]["needs"] == "plan" and jobs["smoke"]["needs"] == "apply"
    # The apply job is the one in the protected environment (staging and prod reviewers); plan and smoke only read.
    assert jobs["apply"]["environment"] == "${{ inputs.environment }}"
    assert jobs["plan"]["environment"] == jobs["smoke"]["environment"] == "${{ inputs.environment }}-readonly"

    apply = jobs["apply"]
    names = [step.get("name") for step in apply["steps"]]
    applied = steps_named(apply)["Apply the reviewed plans"]
    release = steps_named(apply)["What to release"]
    deploy = next(step for step in apply["steps"] if step.get("uses") == DEPLOY_ACTION)
    assert names.index("The artifact deploys the image built for this promotion") < apply["steps"].index(applied)
    assert apply["steps"].index(applied) < apply["steps"].index(release) < apply["steps"].index(deploy)
    # The schema migration runs after the release's checks and before the deploy action, unconditionally.
    migration = steps_named(apply)["Schema migration"]
    assert apply["steps"].index(release) < apply["steps"].index(migration) < apply["steps"].index(deploy)
    assert migration["run"] == 'exec $LIFECYCLE migrate "$ENVIRONMENT" --target aws' and "if" not in migration
    assert 'release "$ENVIRONMENT" --image "$IMAGE" --prepare .cache/release --target aws' in release["run"]
    # CodeDeploy blue/green through the action, only when there is something to release.
    assert deploy["if"] == f"steps.{release['id']}.outputs.changed == 'true'"
    assert set(deploy["with"]) <= DEPLOY_ACTION_INPUTS
    assert deploy["with"]["codedeploy-appspec"] == ".cache/release/appspec.json"
    for name in ("cluster", "service", "codedeploy-application", "codedeploy-deployment-group"):
        assert deploy["with"][name] == f"${{{{ steps.{release['id']}.outputs.{name} }}}}"
    assert str(deploy["with"]["wait-for-service-stability"]).lower() == "true"
    failed = steps_named(apply)["Why the release failed"]
    assert failed["if"].startswith("failure()") and "aws deploy get-deployment" in failed["run"]

    smoke = steps_named(jobs["smoke"])["Smoke test through the public endpoint, a key of each usage plan"]
    assert smoke["run"] == 'exec $LIFECYCLE smoke "$ENVIRONMENT" --target aws'


def artifact_steps(job: dict, action: str) -> dict[str, dict]:
    """The job's upload-artifact or download-artifact steps, by artifact name."""
    return {step["with"]["name"]: step for step in job["steps"] if step.get("uses", "").startswith(f"actions/{action}-artifact@")}


def test_the_apply_job_applies_exactly_the_plans_the_plan_job_saved_and_summarized():
    jobs = load("deploy-environment.yml")["jobs"]
    plan, apply = jobs["plan"], jobs["apply"]
    saving = steps_named(plan)["Plan every layer, saved for the apply job"]
    match = re.fullmatch(r'exec \$LIFECYCLE plan "\$ENVIRONMENT" all --save (\S+) --target aws --skip-synth --outdir (\S+)', saving["run"])
    assert match, saving["run"]  # exec: a cancelled run's SIGINT reaches the lifecycle, which stops Terraform cleanly
    saved_to, planned_from = match.groups()
    # The reviewers read the summary in the job summary, also when a plan failed.
    summary = steps_named(plan)["What the plans change, for the reviewers"]
    assert summary["if"] == "success() || failure()" and f"cat {saved_to}/summary.md >> \"$GITHUB_STEP_SUMMARY\"" in summary["run"]
    upload = artifact_steps(plan, "upload")["plans-${{ inputs.environment }}"]
    assert upload["with"]["path"] == saved_to and upload["with"]["if-no-files-found"] == "error"
    assert upload["with"]["overwrite"] is True  # a re-run of the plan job (after a refused apply) replaces the plans
    assert plan["steps"].index(saving) < plan["steps"].index(summary) < plan["steps"].index(upload)

    # The apply job downloads that artifact and applies it, from the same synth output, by the same Terraform.
    download = artifact_steps(apply, "download")["plans-${{ inputs.environment }}"]
    applying = steps_named(apply)["Apply the reviewed plans"]
    assert applying["run"] == f'exec $LIFECYCLE apply "$ENVIRONMENT" --plans {download["with"]["path"]} --target aws --outdir {planned_from}'
    assert apply["steps"].index(download) < apply["steps"].index(applying)
    for job in (plan, apply):
        assert artifact_steps(job, "download")["cdktf-out"]["with"]["path"] == planned_from
    versions = {name: next(step["with"]["terraform_version"] for step in job["steps"] if step.get("uses", "").startswith("hashicorp/setup-terraform@"))
                for name, job in (("plan", plan), ("apply", apply))}
    assert versions["plan"] == versions["apply"], versions  # a plan file applies only with the Terraform that made it
    # Nothing deploys around the plans any more.
    assert not [step for step in apply["steps"] if re.search(r"\$LIFECYCLE (deploy|up) ", step.get("run", ""))]


def test_the_plan_and_smoke_jobs_never_use_the_deploy_role():
    jobs = load("deploy-environment.yml")["jobs"]
    for name in ("plan", "smoke"):
        roles = [step["with"]["role-to-assume"] for step in jobs[name]["steps"] if step.get("uses", "").startswith(CONFIGURE_CREDENTIALS)]
        assert roles == ["${{ vars.AWS_READ_ROLE_ARN }}"], name
        assert "AWS_DEPLOY_ROLE_ARN" not in yaml.safe_dump(jobs[name]), name
    roles = [step["with"]["role-to-assume"] for step in jobs["apply"]["steps"] if step.get("uses", "").startswith(CONFIGURE_CREDENTIALS)]
    assert roles == ["${{ vars.AWS_DEPLOY_ROLE_ARN }}"]


def test_the_released_image_is_the_built_digest():
    promote = load("promote.yml")["jobs"]
    # synth pins what the build produced ...
    picked = steps_named(promote["synth"])["The image to promote is the one just built, by digest"]
    assert picked["env"]["BUILT"] == "${{ needs.build.outputs.image }}"
    synthesize = steps_named(promote["synth"])["Synthesize every environment for AWS, once"]
    assert synthesize["env"]["FRAUD_API_IMAGE"] == f"${{{{ steps.{picked['id']}.outputs.image }}}}"
    assert promote["synth"]["outputs"]["image"] == f"${{{{ steps.{picked['id']}.outputs.image }}}}"
    # ... every environment gets it (test_promotion_...: each from the previous one) ...
    apply = load("deploy-environment.yml")["jobs"]["apply"]
    checked = steps_named(apply)["The artifact deploys the image built for this promotion"]
    assert checked["env"]["IMAGE"] == "${{ inputs.image }}" and '$LIFECYCLE image "$ENVIRONMENT" "$IMAGE"' in checked["run"]
    # ... and the release refuses a revision that runs anything else, then ships the file it wrote.
    release = steps_named(apply)["What to release"]
    assert release["env"]["IMAGE"] == "${{ inputs.image }}" and '--image "$IMAGE"' in release["run"]
    deploy = next(step for step in apply["steps"] if step.get("uses") == DEPLOY_ACTION)
    assert deploy["with"]["task-definition"] == ".cache/release/task-definition.json"
    prerequisites = next(step for step in apply["steps"] if "prerequisites" in step.get("run", ""))
    assert prerequisites["env"]["FRAUD_API_IMAGE"] == "${{ inputs.image }}"  # the ECR check looks for this digest


def test_prod_cannot_start_before_stagings_smoke_test_passed():
    promote = load("promote.yml")["jobs"]
    assert promote["deploy-prod"]["needs"] == "deploy-staging"
    assert "if" not in promote["deploy-prod"]  # no always(): a failed staging stops prod
    assert promote["deploy-prod"]["with"]["image"] == "${{ needs.deploy-staging.outputs.image }}"
    workflow = load("deploy-environment.yml")
    # The called workflow's image is set by its smoke job only, after the smoke test step.
    assert workflow["on"]["workflow_call"]["outputs"]["image"]["value"] == "${{ jobs.smoke.outputs.image }}"
    smoke = workflow["jobs"]["smoke"]
    assert smoke["outputs"]["image"] == "${{ steps.passed.outputs.image }}"
    names = [step.get("name") for step in smoke["steps"]]
    assert names.index("Smoke test through the public endpoint, a key of each usage plan") < names.index("Promote")
    # Nothing in an environment's promotion may fail quietly.
    for name, job in workflow["jobs"].items():
        assert not job.get("continue-on-error") and "if" not in job, name
        assert not any(step.get("continue-on-error") for step in job["steps"]), name


def test_every_aws_step_runs_with_an_oidc_role():
    calling_aws = set()
    for path in sorted(WORKFLOWS.glob("*.yml")):
        workflow = load(path.name)
        for name, job in workflow["jobs"].items():
            where = f"{path.name}:{name}"
            if "uses" in job:  # a reusable workflow: its caller must let it ask for an OIDC token
                assert job.get("permissions", {}).get("id-token") == "write", where
                continue
            steps = job["steps"]
            aws_steps = [index for index, step in enumerate(steps) if is_aws_step(step)]
            if not aws_steps:
                continue
            calling_aws.add(where)
            assert job.get("permissions", {}).get("id-token") == "write", where
            credentials = [index for index, step in enumerate(steps) if step.get("uses", "").startswith(CONFIGURE_CREDENTIALS)]
            assert credentials and credentials[0] < aws_steps[0], f"{where}: an AWS step runs before the OIDC role is assumed"
            for index in credentials:
                settings = steps[index]["with"]
                assert settings["role-to-assume"].startswith("${{ vars.AWS_") and settings["role-to-assume"].endswith("_ROLE_ARN }}"), where
                assert not {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"} & set(settings), where
    assert calling_aws == {
        "build-image.yml:image", "deploy-environment.yml:plan", "deploy-environment.yml:apply", "deploy-environment.yml:smoke", "teardown.yml:teardown",
        "drift.yml:drift",
    }
    # The detector does see them.
    assert is_aws_step({"run": '$LIFECYCLE release "$ENVIRONMENT" --target aws'}) and is_aws_step({"uses": DEPLOY_ACTION})
    assert is_aws_step({"run": "  digest=$(aws ecr describe-images --repository-name x)"})
    assert not is_aws_step({"run": ".venv/bin/python -m lifecycle synth --target aws --outdir cdktf.out"})
    assert not is_aws_step({"run": "echo the aws target is fine"})


def test_teardown_is_manual_per_environment_and_layer_and_goes_through_the_guard():
    workflow = load("teardown.yml")
    inputs = workflow["on"]["workflow_dispatch"]["inputs"]
    assert inputs["environment"]["options"] == ENVIRONMENTS
    assert set(inputs["layer"]["options"]) == {layer.value for layer in Layer} | {"all"}
    job = workflow["jobs"]["teardown"]
    assert job["environment"] == "${{ inputs.environment }}"
    # The confirmation is checked by a job of its own, with no environment (so no approval is asked
    # and no credentials are handed out for a typo), and fails visibly instead of skipping.
    confirm = workflow["jobs"]["confirm"]
    assert job["needs"] == "confirm" and "if" not in job
    assert "environment" not in confirm and "permissions" not in confirm
    (check,) = confirm["steps"]
    assert check["env"] == {"ENVIRONMENT": "${{ inputs.environment }}", "CONFIRM": "${{ inputs.confirm }}"}
    assert '[ "$CONFIRM" != "$ENVIRONMENT" ]' in check["run"] and "exit 1" in check["run"]
    # ...and handed to the lifecycle, which refuses a mismatch again (inputs reach the shell through env only).
    step = next(step for step in job["steps"] if step.get("name", "").startswith("Tear down"))
    assert step["env"]["CONFIRM"] == "${{ inputs.confirm }}" and "${{" not in step["run"]
    assert 'lifecycle destroy "$ENVIRONMENT" "$LAYER" --target aws --confirm "$CONFIRM"' in step["run"]
    assert 'lifecycle down "$ENVIRONMENT" --target aws --confirm "$CONFIRM"' in step["run"]
    # Deploys and teardowns of an environment share one concurrency group.
    apply = load("deploy-environment.yml")["jobs"]["apply"]
    assert job["concurrency"]["group"] == apply["concurrency"]["group"] == "lifecycle-${{ inputs.environment }}"


def test_drift_is_checked_daily_in_every_environment_with_the_read_only_role_and_fails_the_run():
    workflow = load("drift.yml")
    (schedule,) = workflow["on"]["schedule"]
    minute, hour, day_of_month, month, day_of_week = schedule["cron"].split()
    assert minute.isdigit() and hour.isdigit() and (day_of_month, month, day_of_week) == ("*", "*", "*"), "once a day, every day"
    assert "workflow_dispatch" in workflow["on"]
    (job,) = workflow["jobs"].values()
    assert job["strategy"]["matrix"]["environment"] == ENVIRONMENTS and job["strategy"]["fail-fast"] is False
    # The read-only role only: the environment that holds AWS_READ_ROLE_ARN, never the deploy role's.
    assert job["environment"] == "${{ matrix.environment }}-readonly"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    (credentials,) = [step for step in job["steps"] if step.get("uses", "").startswith(CONFIGURE_CREDENTIALS)]
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_READ_ROLE_ARN }}"
    assert "AWS_DEPLOY_ROLE_ARN" not in (WORKFLOWS / "drift.yml").read_text()
    # A queued check must not cancel a queued deploy or teardown of the environment.
    apply = load("deploy-environment.yml")["jobs"]["apply"]
    assert job["concurrency"]["group"] != apply["concurrency"]["group"].replace("inputs.", "matrix.")
    check = steps_named(job)["Refresh-only plan of every deployed layer"]
    assert check["env"]["ENVIRONMENT"] == "${{ matrix.environment }}"
    assert check["run"].startswith('exec .venv/bin/python -m lifecycle drift "$ENVIRONMENT" --target aws ')
    assert '--summary "$GITHUB_STEP_SUMMARY"' in check["run"] and "--drift-report drift-report.json" in check["run"]
    # Drift (exit 2) or a failed check (exit 1) fails the step and so the run; nothing swallows it.
    assert not job.get("continue-on-error") and not any(step.get("continue-on-error") for step in job["steps"])
    assert "||" not in check["run"] and "set +e" not in check["run"]
    names = [step.get("name") for step in job["steps"]]
    report = steps_named(job)["Drift report and Terraform logs"]
    assert report["if"] == "always()" and "drift-report.json" in report["with"]["path"]
    assert names.index("Refresh-only plan of every deployed layer") < names.index("Drift report and Terraform logs")
