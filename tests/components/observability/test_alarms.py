"""The alarm builders in a bare stack: thresholds, metric math and missing-data choices."""

from __future__ import annotations

import pytest

from components.observability.alarms import PlatformAlarms
from config.settings import ObservabilitySettings

SETTINGS = ObservabilitySettings(
    alarm_email="oncall@example.com",
    api_latency_p99_threshold_ms=250,
    aurora_connections_threshold=120,
    lambda_error_rate_threshold_percent=2.5,
    http_5xx_rate_threshold_percent=0.5,
)
TOPIC = "arn:aws:sns:us-east-1:111122223333:fraud-alarms-test"


@pytest.fixture
def alarms(bare_stack, naming, platform):
    stack, synth = bare_stack
    built = PlatformAlarms(stack, "alarms", naming=naming, platform=platform, settings=SETTINGS, min_healthy_tasks=3, topic_arn=TOPIC)
    resources = synth()["resource"]["aws_cloudwatch_metric_alarm"]
    assert len(built.alarms) == len(resources)
    return {body["alarm_name"]: body for body in resources.values()}


def test_thresholds_come_from_the_settings(alarms):
    assert alarms["fraud-gateway-latency-p99-test"]["threshold"] == 250
    assert alarms["fraud-alb-latency-p99-test"]["threshold"] == pytest.approx(0.25)
    assert alarms["fraud-ecs-healthy-tasks-test"]["threshold"] == 3
    assert alarms["fraud-aurora-connections-test"]["threshold"] == 120
    assert alarms["fraud-transaction-processor-error-rate-test"]["threshold"] == 2.5
    assert alarms["fraud-gateway-5xx-rate-test"]["threshold"] == 0.5


def test_one_dead_letter_alarm_per_queue_named_in_its_description(alarms, platform):
    dead_letter = [alarm for name, alarm in alarms.items() if "dlq-not-empty" in name]
    assert sorted(alarm["dimensions"]["QueueName"] for alarm in dead_letter) == sorted(platform.queues.dead_letter_queue_names)
    assert all(alarm["dimensions"]["QueueName"] in alarm["alarm_description"] for alarm in dead_letter)


def test_rate_alarms_divide_failures_by_traffic_and_guard_against_none(alarms):
    for name in ("fraud-transaction-processor-error-rate-test", "fraud-pattern-analyzer-error-rate-test"):
        queries = {query["id"]: query for query in alarms[name]["metric_query"]}
        assert queries["rate"]["expression"] == "IF(invocations > 0, errors / invocations * 100, 0)"
        assert queries["errors"]["metric"]["metric_name"] == "Errors"
        assert queries["invocations"]["metric"]["metric_name"] == "Invocations"
    alb = {query["id"]: query for query in alarms["fraud-alb-5xx-rate-test"]["metric_query"]}
    assert alb["rate"]["expression"] == "IF(requests > 0, FILL(errors, 0) / requests * 100, 0)"


def test_missing_data_is_a_deliberate_choice_per_alarm(alarms):
    expected = {
        "fraud-gateway-latency-p99-test": "notBreaching",
        "fraud-ecs-healthy-tasks-test": "breaching",
        "fraud-aurora-connections-test": "missing",
        "fraud-gateway-5xx-rate-test": "notBreaching",
        "fraud-dlq-not-empty-1-test": "notBreaching",
    }
    assert {name: alarms[name]["treat_missing_data"] for name in expected} == expected


def test_healthy_task_alarm_takes_the_max_over_both_target_groups(alarms, platform):
    queries = {query["id"]: query for query in alarms["fraud-ecs-healthy-tasks-test"]["metric_query"]}
    assert queries["healthy"]["expression"] == "MAX([group_0, group_1])"
    groups = {queries[f"group_{i}"]["metric"]["dimensions"]["TargetGroup"] for i in (0, 1)}
    assert groups == set(platform.load_balancer.target_group_arn_suffixes.by_colour().values())
