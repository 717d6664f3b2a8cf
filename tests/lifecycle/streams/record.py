"""Record the Terraform `-json` streams the progress tests replay, from real Terraform against the emulator.

    CHECKPOINT_DISABLE=1 .venv/bin/python -m tests.lifecycle.streams.record [--run-dir DIR]   # ~3 minutes

Starts its own emulator in DIR (default: a temporary directory), writes three small
configurations with the S3 backend and its lock file, as the stacks have, and records:

- `plan.jsonl`, `apply.jsonl`, `destroy.jsonl`: a five-resource stack planned, applied, destroyed;
- `long_wait.apply.jsonl`: an S3 lifecycle configuration (the provider polls it ~55 s) beside an
  SQS queue (~25 s), with Terraform's 10-second "Still creating..." events;
- `failed.apply.jsonl`: an IAM policy attachment to a policy that does not exist (two other
  resources succeed);
- `locked.apply.jsonl`: an apply started while the long-wait apply holds the state lock, and
  `lock.tflock.json`, the lock object that apply found;
- `interrupted.apply.jsonl`: the long-wait apply sent SIGINT a few seconds into its waits;
- `saved.plan.jsonl` and `saved.plan.json` (`--only saved-plans`, ~1 minute): a consumer that
  reads a producer's outputs through `terraform_remote_state`, deployed, then changed so that
  its saved plan (`plan -out`) creates, updates, replaces and destroys one parameter each: the
  plan's `-json` stream and `terraform show -json` of the plan file; `saved.producer.plan.json`:
  the producer's saved plan changing the output the consumer reads.

Nothing here is a test; the files it writes are what the tests read.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from config.targets import DeploymentTarget
from scripts import emulator
from scripts.terraform_cli import terraform_env

STREAMS = Path(__file__).resolve().parent
STATE_BUCKET = "recording-state"
SECONDS_INTO_THE_WAIT_BEFORE_SIGINT = 8

ASSUME_ROLE = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})
CONFIGURATIONS = {
    "small": {
        "aws_kms_key": {"key": {"description": "recording", "deletion_window_in_days": 7, "enable_key_rotation": True}},
        "aws_kms_alias": {"key": {"name": "alias/recording", "target_key_id": "${aws_kms_key.key.key_id}"}},
        "aws_ssm_parameter": {"setting": {"name": "/recording/setting", "type": "String", "value": "v"}},
        "aws_s3_bucket": {"data": {"bucket": "recording-data"}},
        "aws_s3_bucket_versioning": {"data": {"bucket": "${aws_s3_bucket.data.id}", "versioning_configuration": [{"status": "Enabled"}]}},
    },
    "long_wait": {
        "aws_s3_bucket": {"logs": {"bucket": "recording-logs"}},
        "aws_s3_bucket_lifecycle_configuration": {
            "logs": {"bucket": "${aws_s3_bucket.logs.id}", "rule": [{"id": "expire", "status": "Enabled", "filter": [{}], "expiration": [{"days": 30}]}]},
        },
        "aws_sqs_queue": {"alerts": {"name": "recording-alerts"}},
    },
    "plan_producer": {
        "aws_ssm_parameter": {"shared": {"name": "/recording/shared", "type": "String", "value": "v1"}},
    },
    "plan_consumer": {
        "aws_ssm_parameter": {
            "kept": {"name": "/recording/kept", "type": "String", "value": "k"},
            "updated": {"name": "/recording/updated", "type": "String", "value": "before"},
            "replaced": {"name": "/recording/replaced-1", "type": "String", "value": "r"},
            "removed": {"name": "/recording/removed", "type": "String", "value": "gone soon"},
            "from_producer": {"name": "/recording/from-producer", "type": "String",
                              "value": "${data.terraform_remote_state.producer.outputs.shared_value}"},
        },
    },
    "failed": {
        "aws_iam_role": {"worker": {"name": "recording-worker", "assume_role_policy": ASSUME_ROLE}},
        "aws_iam_role_policy_attachment": {"missing": {"role": "${aws_iam_role.worker.name}", "policy_arn": "arn:aws:iam::aws:policy/DoesNotExistPolicy"}},
        "aws_ssm_parameter": {"setting": {"name": "/recording/failed", "type": "String", "value": "v"}},
    },
}


# As cdktf writes a cross-stack reference: a sensitive output in the producer, a remote-state read in the consumer.
EXTRA_BLOCKS = {
    "plan_producer": {"output": {"shared_value": {"value": "${aws_ssm_parameter.shared.value}", "sensitive": True}}},
    "plan_consumer": {
        "data": {"terraform_remote_state": {"producer": {
            "backend": "s3", "config": {"bucket": STATE_BUCKET, "key": "recording/plan_producer.tfstate", "region": "us-east-1"},
        }}},
        "output": {"replaced_name": {"value": "${aws_ssm_parameter.replaced.name}"}},
    },
}
# What changes between the consumer's deploy and its saved plan: one create, update, replace and destroy.
CONSUMER_CHANGES = {
    "updated": {"name": "/recording/updated", "type": "String", "value": "after"},
    "replaced": {"name": "/recording/replaced-2", "type": "String", "value": "r"},
    "added": {"name": "/recording/added", "type": "String", "value": "new"},
}


class Recorder:
    def __init__(self, run_dir: Path, target: DeploymentTarget) -> None:
        self.run_dir = run_dir
        self.target = target
        self.env = terraform_env()
        self.env.update(target.client_environment())

    def write(self, name: str) -> Path:
        directory = self.run_dir / name
        directory.mkdir(parents=True, exist_ok=True)
        backend = {"bucket": STATE_BUCKET, "key": f"recording/{name}.tfstate", "region": "us-east-1", "use_lockfile": True, **self.target.backend_settings()}
        config = {
            "terraform": {"backend": {"s3": backend}, "required_providers": {"aws": {"source": "aws", "version": "5.100.0"}}},
            "provider": {"aws": [{"region": "us-east-1", **self.target.provider_settings()}]},
            "resource": CONFIGURATIONS[name],
            **json.loads(json.dumps(EXTRA_BLOCKS.get(name, {}))),
        }
        if name == "plan_consumer":
            config["data"]["terraform_remote_state"]["producer"]["config"].update(self.target.backend_settings())
        (directory / "main.tf.json").write_text(json.dumps(config, indent=1))
        subprocess.run(["terraform", "init", "-input=false", "-no-color"], cwd=directory, env=self.env, check=True, capture_output=True)
        return directory

    def rewrite(self, directory: Path, name: str, resources: dict) -> None:
        config = json.loads((directory / "main.tf.json").read_text())
        config["resource"] = resources
        (directory / "main.tf.json").write_text(json.dumps(config, indent=1))

    def show(self, directory: Path, plan_file: str, *, into: str) -> None:
        """`terraform show -json` of a saved plan, indented so a diff of a re-recording reads."""
        shown = subprocess.run(["terraform", "show", "-json", plan_file], cwd=directory, env=self.env, check=True, capture_output=True, text=True)
        (STREAMS / into).write_text(json.dumps(json.loads(shown.stdout), indent=1) + "\n")

    def start(self, directory: Path, *args: str, into: str) -> subprocess.Popen:
        output = (STREAMS / into).open("w")
        return subprocess.Popen(["terraform", *args, "-json", "-input=false"], cwd=directory, env=self.env, stdout=output, stderr=subprocess.STDOUT)

    def record(self, directory: Path, *args: str, into: str) -> int:
        return self.start(directory, *args, into=into).wait()

    def quietly(self, directory: Path, *args: str) -> None:
        done = subprocess.run(["terraform", *args, "-input=false", "-no-color"], cwd=directory, env=self.env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"terraform {' '.join(args)} in {directory} failed:\n{done.stdout}{done.stderr}")


def record_saved_plans(recorder: Recorder) -> None:
    """A consumer's saved plan that creates, updates, replaces and destroys, and its producer's that changes an output."""
    producer, consumer = recorder.write("plan_producer"), recorder.write("plan_consumer")
    recorder.quietly(producer, "apply", "-auto-approve")
    recorder.quietly(consumer, "apply", "-auto-approve")
    parameters = CONFIGURATIONS["plan_consumer"]["aws_ssm_parameter"]
    changed = {name: body for name, body in parameters.items() if name != "removed"} | CONSUMER_CHANGES
    recorder.rewrite(consumer, "plan_consumer", {"aws_ssm_parameter": changed})
    assert recorder.record(consumer, "plan", "-lock=false", "-out=saved.tfplan", into="saved.plan.jsonl") == 0
    recorder.show(consumer, "saved.tfplan", into="saved.plan.json")
    recorder.rewrite(producer, "plan_producer", {"aws_ssm_parameter": {"shared": {"name": "/recording/shared", "type": "String", "value": "v2"}}})
    assert recorder.record(producer, "plan", "-lock=false", "-out=saved.tfplan", into="saved.producer.plan.jsonl") == 0
    recorder.show(producer, "saved.tfplan", into="saved.producer.plan.json")
    (STREAMS / "saved.producer.plan.jsonl").unlink()
    recorder.quietly(consumer, "destroy", "-auto-approve")
    recorder.quietly(producer, "destroy", "-auto-approve")


def wait_for(stream: str, needle: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while needle not in (STREAMS / stream).read_text():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{needle!r} never appeared in {stream}")
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, help="where the emulator and the configurations live (default: a temporary directory)")
    parser.add_argument("--only", choices=("saved-plans",), help="record only these streams")
    args = parser.parse_args(argv)
    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix="stream-recording-"))
    running = emulator.start(run_dir / "emulator")
    try:
        target = DeploymentTarget(emulator_endpoint=running.endpoint)
        import boto3

        s3 = boto3.client("s3", endpoint_url=running.endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        s3.create_bucket(Bucket=STATE_BUCKET)
        recorder = Recorder(run_dir, target)
        if args.only == "saved-plans":
            record_saved_plans(recorder)
            return 0
        small, long_wait, failed = (recorder.write(name) for name in ("small", "long_wait", "failed"))

        assert recorder.record(small, "plan", into="plan.jsonl") == 0
        assert recorder.record(small, "apply", "-auto-approve", into="apply.jsonl") == 0
        assert recorder.record(small, "destroy", "-auto-approve", into="destroy.jsonl") == 0
        assert recorder.record(failed, "apply", "-auto-approve", into="failed.apply.jsonl") == 1

        holder = recorder.start(long_wait, "apply", "-auto-approve", into="long_wait.apply.jsonl")
        wait_for("long_wait.apply.jsonl", '"type":"apply_start"')
        lock = s3.get_object(Bucket=STATE_BUCKET, Key="recording/long_wait.tfstate.tflock")["Body"].read()
        (STREAMS / "lock.tflock.json").write_text(json.dumps(json.loads(lock), indent=2) + "\n")
        assert recorder.record(long_wait, "apply", "-auto-approve", "-lock-timeout=2s", into="locked.apply.jsonl") == 1
        assert holder.wait() == 0
        recorder.quietly(long_wait, "destroy", "-auto-approve")

        interrupted = recorder.start(long_wait, "apply", "-auto-approve", into="interrupted.apply.jsonl")
        wait_for("interrupted.apply.jsonl", "aws_s3_bucket_lifecycle_configuration.logs: Creating...")
        time.sleep(SECONDS_INTO_THE_WAIT_BEFORE_SIGINT)
        interrupted.send_signal(signal.SIGINT)
        assert interrupted.wait() == 1
        left = s3.list_objects_v2(Bucket=STATE_BUCKET, Prefix="recording/long_wait.tfstate.tflock").get("KeyCount", 0)
        print(f"interrupted apply exited; lock object left behind: {bool(left)}")
        recorder.quietly(long_wait, "destroy", "-auto-approve")
        recorder.quietly(failed, "destroy", "-auto-approve")
        record_saved_plans(recorder)
    finally:
        emulator.stop(run_dir / "emulator")
    for stream in sorted(STREAMS.glob("*.json*")):
        print(f"{stream.name}: {len(stream.read_text().splitlines())} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
