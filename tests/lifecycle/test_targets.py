"""Emulator-only settings never reach a real-AWS synth, and the emulator's gaps are explicit and tested."""

from __future__ import annotations

import io
import json
import re

import pytest

from config.environments import build_environments
from config.targets import EMULATOR_BUCKET_POLICY_GAPS, EMULATOR_GAPS, DeploymentTarget, EmulatorGap
from lifecycle import emulator_adaptation
from lifecycle.emulator_adaptation import EmulatorGapError, adapt_for_emulator, emulator_settings_in
from lifecycle.operations import Lifecycle
from lifecycle.progress import Progress
from tests.lifecycle.conftest import EMULATOR_ENDPOINT
from tests.lifecycle.fakes import FakeStateReader
from tests.synthesis import SynthesizedStack

def _all_stacks(synthesis) -> list[SynthesizedStack]:
    return [*synthesis.stacks(), SynthesizedStack("bootstrap", synthesis.outdir / "stacks" / "bootstrap")]


def test_the_aws_synth_carries_no_emulator_setting(synthesis):
    for stack in _all_stacks(synthesis):
        assert emulator_settings_in(stack.config) == [], stack.name
        text = json.dumps(stack.config)
        # A URL on loopback is an emulator endpoint (a container's own 127.0.0.1:2000 X-Ray daemon is not a URL).
        assert not re.search(r"https?://(127\.|localhost|\[::1\])", text), stack.name
        (provider,) = stack.config["provider"]["aws"]
        assert not {"endpoints", "access_key", "secret_key", "s3_use_path_style"} & set(provider), stack.name
        assert not [key for key in provider if key.startswith("skip_")], stack.name
        for backend in stack.config["terraform"]["backend"].values():
            assert not {"endpoints", "access_key", "secret_key", "use_path_style", "force_path_style"} & set(backend), stack.name
            assert not [key for key in backend if key.startswith("skip_")], stack.name


def test_the_emulator_synth_sends_every_call_to_the_emulator(emulator_synthesis):
    for name, config in emulator_synthesis.items():
        (provider,) = config["provider"]["aws"]
        # Every service's calls go to the one URL in AWS_ENDPOINT_URL (client_environment), which the
        # lifecycle gives each Terraform process: no per-service list that a new service could miss.
        assert "endpoints" not in provider, name
        assert (provider["access_key"], provider["s3_use_path_style"]) == ("test", True), name
        for read in config.get("data", {}).get("terraform_remote_state", {}).values():
            assert read["config"]["endpoints"]["s3"] == EMULATOR_ENDPOINT, name
        if name != "bootstrap":
            assert config["terraform"]["backend"]["s3"]["endpoints"]["s3"] == EMULATOR_ENDPOINT, name
        # The detector the AWS-side test relies on does see these settings.
        assert emulator_settings_in(config), name


def test_every_terraform_process_on_the_emulator_is_sent_to_it(tmp_path):
    # The emulator synth's provider names no endpoint: the process environment does, for every service.
    emulator = DeploymentTarget(emulator_endpoint=EMULATOR_ENDPOINT)
    for target, expected in ((emulator, EMULATOR_ENDPOINT), (DeploymentTarget(), None)):
        lifecycle = Lifecycle(target=target, environment=build_environments()["dev"], outdir=tmp_path, workdir=tmp_path,
                              reader=FakeStateReader(), progress=Progress(out=io.StringIO()), base_env={"PATH": "/usr/bin"})
        env = lifecycle._directory(tmp_path / "stacks" / "network-dev").env
        assert env.get("AWS_ENDPOINT_URL") == expected, target.name
        assert (env.get("AWS_ACCESS_KEY_ID") == "test") == target.is_emulator, target.name


def _bucket_policy_documents(config: dict) -> dict[str, dict]:
    """Bucket policy name -> the policy document it renders."""
    documents = config.get("data", {}).get("aws_iam_policy_document", {})
    return {
        name: documents[body["policy"].split(".")[2]]
        for name, body in config.get("resource", {}).get("aws_s3_bucket_policy", {}).items()
    }


def _unevaluable(statement: dict) -> bool:
    return any(
        statement.get("effect") == gap.effect and any(c["variable"] == gap.condition_variable for c in statement.get("condition", []))
        for gap in EMULATOR_BUCKET_POLICY_GAPS
    )


def test_the_emulator_leaves_out_exactly_the_listed_gaps_and_aws_keeps_them(synthesis, emulator_synthesis):
    aws_dev = {stack.name: stack.config for stack in _all_stacks(synthesis) if stack.name.endswith("-dev") or stack.name == "bootstrap"}
    assert set(aws_dev) == set(emulator_synthesis)
    for name, emulated in emulator_synthesis.items():
        real = aws_dev[name]
        emptied = {policy for policy, document in _bucket_policy_documents(real).items() if all(map(_unevaluable, document["statement"]))}
        for resource_type, instances in emulated.get("resource", {}).items():
            assert set(instances) == set(real["resource"][resource_type]), f"{name}: {resource_type} differs"
            for instance, body in instances.items():
                real_body = real["resource"][resource_type][instance]
                listed = any(gap.resource_type == resource_type and gap.applies_to(real_body) for gap in EMULATOR_GAPS)
                expected = listed or (resource_type == "aws_s3_bucket_policy" and instance in emptied)
                assert (body.get("count") == 0) == expected, f"{name}: {resource_type}.{instance}"
                # The real-AWS synth keeps every one of them, created.
                assert real["resource"][resource_type][instance].get("count", 1) != 0, f"{name}: {resource_type}.{instance}"
        # Bucket policies lose only the statements the emulator cannot evaluate, and only there.
        real_documents, emulated_documents = _bucket_policy_documents(real), _bucket_policy_documents(emulated)
        for policy, document in real_documents.items():
            assert emulated_documents[policy]["statement"] == [s for s in document["statement"] if not _unevaluable(s)], policy


def test_every_listed_gap_is_something_the_stacks_use(synthesis):
    used = {resource_type for stack in _all_stacks(synthesis) for resource_type in stack.config.get("resource", {})}
    stale = [gap.resource_type for gap in EMULATOR_GAPS if gap.resource_type not in used]
    assert not stale, f"no stack uses {stale}: drop them from config.targets.EMULATOR_GAPS and docs/lifecycle.md"
    statements = [s for stack in _all_stacks(synthesis) for document in _bucket_policy_documents(stack.config).values() for s in document["statement"]]
    assert any(map(_unevaluable, statements)), "no bucket policy needs EMULATOR_BUCKET_POLICY_GAPS any more: drop it"


@pytest.fixture
def xray_group_left_out(monkeypatch):
    """A gap to exercise the leaving-out itself, whatever config.targets.EMULATOR_GAPS lists today."""
    monkeypatch.setattr(emulator_adaptation, "EMULATOR_GAPS", (EmulatorGap("aws_xray_group", "an example gap"),))


def _config_with_xray_group(reference: str) -> dict:
    return {
        "resource": {
            "aws_xray_group": {"fraud": {"group_name": "fraud-dev"}},
            "aws_cloudwatch_dashboard": {"board": {"dashboard_body": f"{{\"group\": \"{reference}\"}}", "depends_on": ["aws_xray_group.fraud"]}},
        },
        "output": {"group": {"value": reference}},
    }


def test_plain_reads_of_a_left_out_resource_become_visible_placeholders(xray_group_left_out):
    config = _config_with_xray_group("${aws_xray_group.fraud.arn}")
    assert adapt_for_emulator(config) == ["aws_xray_group.fraud"]
    assert config["resource"]["aws_xray_group"]["fraud"]["count"] == 0
    assert config["output"]["group"]["value"] == '${"emulator-omitted:aws_xray_group.arn"}'
    board = config["resource"]["aws_cloudwatch_dashboard"]["board"]
    assert "emulator-omitted:aws_xray_group.arn" in board["dashboard_body"]
    assert board["depends_on"] == ["aws_xray_group.fraud"]


@pytest.mark.parametrize("reference", ["${aws_xray_group.fraud.insights_configuration[0].insights_enabled}", "${aws_xray_group.fraud.tags.Name}"])
def test_deeper_reads_of_a_left_out_resource_are_refused(xray_group_left_out, reference):
    with pytest.raises(EmulatorGapError, match="aws_xray_group.fraud"):
        adapt_for_emulator(_config_with_xray_group(reference))
