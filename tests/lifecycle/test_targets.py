"""Emulator-only settings never reach a real-AWS synth, and the emulator's gaps are explicit and tested."""

from __future__ import annotations

import json
import re

import pytest

from config.targets import EMULATED_SERVICES, EMULATOR_BUCKET_POLICY_GAPS, EMULATOR_GAPS, EmulatorGap
from lifecycle import emulator_adaptation
from lifecycle.emulator_adaptation import EmulatorGapError, adapt_for_emulator, emulator_settings_in
from tests.lifecycle.conftest import EMULATOR_ENDPOINT
from tests.synthesis import SynthesizedStack

# The endpoint key of the AWS provider that serves each resource type, by its longest prefix.
# A resource type missing here fails the coverage test below: add it (and the service to
# config.targets.EMULATED_SERVICES), or an emulator deploy would send that call to real AWS.
SERVICE_OF_TYPE_PREFIX = {
    "aws_vpc": "ec2", "aws_subnet": "ec2", "aws_route": "ec2", "aws_internet_gateway": "ec2", "aws_nat_gateway": "ec2",
    "aws_eip": "ec2", "aws_security_group": "ec2", "aws_default_security_group": "ec2", "aws_flow_log": "ec2",
    "aws_network_acl": "ec2", "aws_default_network_acl": "ec2", "aws_ec2": "ec2", "aws_availability_zones": "ec2",
    "aws_lb": "elbv2", "aws_alb": "elbv2", "aws_s3": "s3", "aws_ecr": "ecr", "aws_kms": "kms", "aws_iam": "iam",
    "aws_cloudwatch_log": "logs", "aws_cloudwatch_metric_alarm": "cloudwatch", "aws_cloudwatch_composite_alarm": "cloudwatch",
    "aws_cloudwatch_dashboard": "cloudwatch", "aws_cloudwatch_event": "events", "aws_db": "rds", "aws_rds": "rds",
    "aws_dynamodb": "dynamodb", "aws_secretsmanager": "secretsmanager", "aws_ssm": "ssm", "aws_ecs": "ecs", "aws_ecr": "ecr",
    "aws_lambda": "lambda", "aws_sns": "sns", "aws_sqs": "sqs", "aws_appautoscaling": "appautoscaling",
    "aws_codedeploy": "codedeploy", "aws_acm": "acm", "aws_route53": "route53", "aws_api_gateway": "apigateway",
    "aws_wafv2": "wafv2", "aws_xray": "xray", "aws_caller_identity": "sts", "aws_partition": None, "aws_region": None,
    "aws_iam_policy_document": None, "aws_elb_service_account": None,
}


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
        assert provider["endpoints"] == [{service: EMULATOR_ENDPOINT for service in EMULATED_SERVICES}], name
        assert (provider["access_key"], provider["s3_use_path_style"]) == ("test", True), name
        for read in config.get("data", {}).get("terraform_remote_state", {}).values():
            assert read["config"]["endpoints"]["s3"] == EMULATOR_ENDPOINT, name
        if name != "bootstrap":
            assert config["terraform"]["backend"]["s3"]["endpoints"]["s3"] == EMULATOR_ENDPOINT, name
        # The detector the AWS-side test relies on does see these settings.
        assert emulator_settings_in(config), name


def test_every_service_the_stacks_call_has_an_emulator_endpoint(synthesis):
    unknown, uncovered = set(), set()
    for stack in _all_stacks(synthesis):
        for section in ("resource", "data"):
            for resource_type in stack.config.get(section, {}):
                if resource_type.startswith("terraform_"):
                    continue
                prefixes = [prefix for prefix in SERVICE_OF_TYPE_PREFIX if resource_type.startswith(prefix)]
                if not prefixes:
                    unknown.add(resource_type)
                    continue
                service = SERVICE_OF_TYPE_PREFIX[max(prefixes, key=len)]
                if service is not None and service not in EMULATED_SERVICES:
                    uncovered.add((resource_type, service))
    assert not unknown, f"say which service serves {sorted(unknown)} in SERVICE_OF_TYPE_PREFIX"
    assert not uncovered, f"add these services to config.targets.EMULATED_SERVICES: {sorted(uncovered)}"


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
