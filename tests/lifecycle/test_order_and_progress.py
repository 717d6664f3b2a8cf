"""Deploy walks the DAG, teardown walks it back, and the first failure stops the run naming the stack."""

from __future__ import annotations

import io
import json
import re

import pytest

from config.environments import build_environments
from config.targets import DeploymentTarget
from lifecycle.operations import Lifecycle, StackFailed
from lifecycle.progress import Progress
from lifecycle.synth import SynthMismatch
from lifecycle.states import GuardRefusal
from stacks.layers import DEPLOY_ORDER, Layer
from tests.lifecycle.fakes import FakeStackDirectory, FakeStateReader, write_aws_synth


class RecordingLifecycle(Lifecycle):
    """A Lifecycle whose Terraform is FakeStackDirectory."""

    calls: list[str]
    fail: str | None = None
    fail_refresh: str | None = None
    streams_override: dict[str, str] | None = None

    def _directory(self, path, *, quiet=False, observe=None):
        directory = FakeStackDirectory(path, self.calls, self.reader, self.environment.name, fail=self.fail, fail_refresh=self.fail_refresh, observe=observe)
        directory.streams.update(self.streams_override or {})
        return directory


@pytest.fixture
def make_lifecycle(tmp_path):
    def make(reader: FakeStateReader, fail: str | None = None, fail_refresh: str | None = None) -> tuple[RecordingLifecycle, io.StringIO]:
        write_aws_synth(tmp_path / "out", "dev")
        out = io.StringIO()
        lifecycle = RecordingLifecycle(
            target=DeploymentTarget(),
            environment=build_environments()["dev"],
            outdir=tmp_path / "out",
            workdir=tmp_path / "work",
            reader=reader,
            progress=Progress(out=out),
        )
        lifecycle.calls = []
        lifecycle.fail = fail
        lifecycle.fail_refresh = fail_refresh
        return lifecycle, out

    return make


def test_deploy_runs_every_stack_in_dag_order_whatever_order_was_asked(make_lifecycle):
    lifecycle, out = make_lifecycle(FakeStateReader())
    lifecycle.deploy([Layer.OBSERVABILITY, Layer.NETWORK, Layer.EDGE, Layer.DATA, Layer.COMPUTE])
    applied = [call.split()[1] for call in lifecycle.calls if call.startswith("apply")]
    assert applied == [f"{layer.value}-dev" for layer in DEPLOY_ORDER]
    text = out.getvalue()
    for index, layer in enumerate(DEPLOY_ORDER, start=1):
        assert f"[{index}/5] {layer.value}-dev" in text
    assert re.search(r"\[5/5\] observability-dev\s+deployed in \d+\.\d s \(5 resources\)", text), text


def test_teardown_runs_in_reverse_dag_order_and_skips_what_is_not_deployed(make_lifecycle):
    lifecycle, out = make_lifecycle(FakeStateReader.with_layers("dev", network=40, data=10, compute=20, edge=0, observability=4))
    lifecycle.destroy(list(Layer))
    destroyed = [call.split()[1] for call in lifecycle.calls if call.startswith("destroy")]
    assert destroyed == ["observability-dev", "compute-dev", "data-dev", "network-dev"]
    assert "edge-dev: nothing deployed, skipped" in out.getvalue()
    assert re.search(r"network-dev\s+destroyed in \d+\.\d s \(state empty\)", out.getvalue())


def test_the_first_failure_stops_the_run_and_names_the_stack(make_lifecycle):
    lifecycle, out = make_lifecycle(FakeStateReader(), fail="data-dev")
    with pytest.raises(StackFailed, match="deploy of data-dev failed"):
        lifecycle.deploy(list(Layer))
    assert [call for call in lifecycle.calls if call.startswith("apply")] == ["apply network-dev", "apply data-dev"]
    text = out.getvalue()
    assert re.search(r"\[2/5\] data-dev\s+deploy FAILED after \d+\.\d s", text), text
    # The failing resource and Terraform's diagnostic, above the log path.
    failure = text[text.index("data-dev               deploy FAILED"):]
    assert failure.index("aws_iam_role_policy_attachment.missing: attaching IAM Policy") < failure.index("full log:")
    assert "not attempted (data-dev failed): compute-dev, edge-dev, observability-dev" in text
    outcomes = {result.stack: result.outcome for result in lifecycle.progress.results}
    assert outcomes == {"network-dev": "done", "data-dev": "failed", "compute-dev": "skipped", "edge-dev": "skipped", "observability-dev": "skipped"}


def test_plans_run_for_every_layer_asked_and_report_their_summaries(make_lifecycle):
    lifecycle, out = make_lifecycle(FakeStateReader())
    plans = lifecycle.plan([Layer.EDGE, Layer.DATA, Layer.COMPUTE], mock_upstream=False)
    assert {name: plan.summary for name, plan in plans.items()} == {f"{name}-dev": "Plan: 5 to add, 0 to change, 0 to destroy." for name in ("data", "compute", "edge")}
    assert sorted(call for call in lifecycle.calls if call.startswith("plan")) == ["plan compute-dev", "plan data-dev", "plan edge-dev"]
    assert re.search(r"\[3/3\] edge-dev\s+planned in \d+\.\d s \(Plan: 5 to add", out.getvalue())
    # Creates are named from Terraform's events alone: no saved plan is read for them.
    assert [change.address for change in plans["edge-dev"].changes] == [
        "aws_kms_alias.key", "aws_kms_key.key", "aws_s3_bucket.data", "aws_s3_bucket_versioning.data", "aws_ssm_parameter.setting",
    ]
    assert {change.action for plan in plans.values() for change in plan.changes} == {"create"}
    assert not any(call.startswith("show") for call in lifecycle.calls)
    assert "    edge-dev: Plan: 5 to add, 0 to change, 0 to destroy.\n      aws_kms_alias.key: create\n" in out.getvalue()


def test_a_failed_plan_does_not_stop_the_others_and_is_named(make_lifecycle):
    # Plans only read, so unlike a deploy one failure is no reason to skip the rest.
    lifecycle, out = make_lifecycle(FakeStateReader(), fail="compute-dev")
    with pytest.raises(StackFailed, match="plan of compute-dev failed"):
        lifecycle.plan(list(Layer), mock_upstream=False)
    assert len([call for call in lifecycle.calls if call.startswith("plan")]) == len(Layer)
    assert "Error: Reference to undeclared resource" in out.getvalue()
    outcomes = {result.stack: result.outcome for result in lifecycle.progress.results}
    assert outcomes == {f"{layer.value}-dev": "failed" if layer is Layer.COMPUTE else "done" for layer in Layer}


def test_a_refused_teardown_touches_nothing(make_lifecycle):
    lifecycle, _ = make_lifecycle(FakeStateReader.with_layers("dev", network=40, data=10, compute=20))
    with pytest.raises(GuardRefusal, match="compute-dev"):
        lifecycle.destroy([Layer.DATA, Layer.NETWORK])
    assert lifecycle.calls == []  # not even an init


def test_a_refused_deploy_touches_nothing(make_lifecycle):
    lifecycle, _ = make_lifecycle(FakeStateReader())
    with pytest.raises(GuardRefusal, match="network-dev, data-dev"):
        lifecycle.deploy([Layer.COMPUTE])
    assert lifecycle.calls == []  # not even an init


def test_an_emulator_synth_is_never_run_against_aws(make_lifecycle, tmp_path):
    lifecycle, _ = make_lifecycle(FakeStateReader())
    config_file = tmp_path / "out" / "stacks" / "network-dev" / "cdk.tf.json"
    emulator = DeploymentTarget(emulator_endpoint="http://127.0.0.1:4566")
    config_file.write_text(json.dumps({"provider": {"aws": [{"region": "us-east-1", **emulator.provider_settings()}]}}))
    with pytest.raises(SynthMismatch, match="synthesized for the emulator"):
        lifecycle.deploy([Layer.NETWORK])
    assert lifecycle.calls == []  # not even an init


@pytest.mark.parametrize(
    ("synthesized_for", "refusal"),
    [
        (DeploymentTarget(), "synthesized for real AWS"),
        (DeploymentTarget(emulator_endpoint="http://127.0.0.1:4999"), r"synthesized for http://127.0.0.1:4999, not the emulator at http://127.0.0.1:4566"),
    ],
)
def test_the_emulator_runs_only_a_synth_made_for_it(make_lifecycle, tmp_path, synthesized_for, refusal):
    lifecycle, _ = make_lifecycle(FakeStateReader())
    lifecycle.target = DeploymentTarget(emulator_endpoint="http://127.0.0.1:4566")
    config_file = tmp_path / "out" / "stacks" / "data-dev" / "cdk.tf.json"
    # The provider takes its endpoint from the process (AWS_ENDPOINT_URL): the state backend and
    # the remote-state reads are what name the emulator a synth was made for.
    backend = {"bucket": "state", "key": "dev/data.tfstate", **synthesized_for.backend_settings()}
    config_file.write_text(json.dumps({
        "provider": {"aws": [{"region": "us-east-1", **synthesized_for.provider_settings()}]},
        "terraform": {"backend": {"s3": backend}},
        "data": {"terraform_remote_state": {"network": {"backend": "s3", "config": {**backend, "key": "dev/network.tfstate"}}}},
    }))
    with pytest.raises(SynthMismatch, match=refusal):
        lifecycle.deploy([Layer.DATA])
    assert lifecycle.calls == []


def test_the_summary_lists_each_step_with_its_duration(make_lifecycle, tmp_path):
    lifecycle, out = make_lifecycle(FakeStateReader())
    lifecycle.deploy([Layer.NETWORK, Layer.DATA])
    lifecycle.progress.summary()
    lifecycle.progress.write_report(tmp_path / "report.json")
    assert re.search(r"data-dev\s+deploy\s+done\s+\d+\.\d s", out.getvalue())
    report = json.loads((tmp_path / "report.json").read_text())
    steps = [(step["stack"], step["action"], step["outcome"]) for step in report]
    assert [step for step in steps if step[1] == "deploy"] == [("network-dev", "deploy", "done"), ("data-dev", "deploy", "done")]
    assert sorted(step for step in steps if step[1] == "refresh") == [("data-dev", "refresh", "done"), ("network-dev", "refresh", "done")]


def test_each_applied_layer_gets_its_state_refreshed_after_its_apply(make_lifecycle):
    lifecycle, out = make_lifecycle(FakeStateReader())
    lifecycle.deploy(list(Layer))
    for layer in DEPLOY_ORDER:
        name = f"{layer.value}-dev"
        assert lifecycle.calls.index(f"apply {name}") < lifecycle.calls.index(f"refresh {name}")
    # The next layer's apply does not wait for it: it reads only the outputs, which a refresh keeps.
    assert lifecycle.calls.index("apply data-dev") < lifecycle.calls.index("refresh observability-dev")
    assert re.search(r"network-dev\s+refreshed in \d+\.\d s \(the state holds what AWS reports after the apply\)", out.getvalue())


def test_a_layer_whose_apply_changed_nothing_is_not_refreshed(make_lifecycle):
    # An apply that changes nothing has already written the state it refreshed.
    lifecycle, _ = make_lifecycle(FakeStateReader())
    lifecycle.streams_override = {"apply": "refresh.apply.jsonl"}  # a run that changed nothing
    lifecycle.deploy([Layer.NETWORK])
    assert "apply network-dev" in lifecycle.calls and not any(call.startswith("refresh") for call in lifecycle.calls)


def test_a_failed_refresh_fails_the_deploy_after_every_apply_ran(make_lifecycle):
    lifecycle, out = make_lifecycle(FakeStateReader(), fail_refresh="network-dev")
    with pytest.raises(StackFailed, match="refreshing the state of network-dev after its apply failed"):
        lifecycle.deploy([Layer.NETWORK, Layer.DATA])
    assert "apply data-dev" in lifecycle.calls
    assert re.search(r"network-dev\s+refresh FAILED", out.getvalue())
