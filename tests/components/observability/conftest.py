"""Observability constructs over a platform of plain names (no upstream stacks); `bare_stack` is
tests/components/conftest.py's."""

from __future__ import annotations

import pytest

from components.compute.load_balancer import BlueGreenPair
from components.compute.log_metrics import LogMetricNames
from components.observability import sources


@pytest.fixture
def platform() -> sources.MonitoredPlatform:
    return sources.MonitoredPlatform(
        gateway=sources.MonitoredGateway(rest_api_name="fraud-api-test", stage_name="test"),
        load_balancer=sources.MonitoredLoadBalancer(
            arn_suffix="app/fraud-alb-test/abc", target_group_arn_suffixes=BlueGreenPair(blue="targetgroup/blue/1", green="targetgroup/green/2")
        ),
        vpc_link=sources.MonitoredVpcLink(arn_suffix="net/fraud-vpclink-test/def", target_group_arn_suffix="targetgroup/alb/3"),
        service=sources.MonitoredService(cluster_name="fraud-cluster-test", service_name="fraud-api-test"),
        service_logs=LogMetricNames(namespace="fraud-api-test", api_config_refresh_failures="ApiConfigRefreshFailures", refusals_to_serve="RefusalsToServe"),
        database=sources.MonitoredDatabase(cluster_identifier="fraud-aurora-test"),
        functions=(
            sources.MonitoredFunction(label="transaction-processor", function_name="fraud-transaction-processor-test"),
            sources.MonitoredFunction(label="pattern-analyzer", function_name="fraud-pattern-analyzer-test"),
        ),
        queues=sources.MonitoredQueues(
            alerts_queue_name="fraud-alerts-test",
            dead_letter_queue_names=("fraud-alerts-dlq-test", "fraud-processor-dlq-test", "fraud-analyzer-dlq-test"),
        ),
        firewall=sources.MonitoredFirewall(web_acl_metric_name="fraud-waf-test", rule_metric_names=("fraud-waf-geo-test", "fraud-waf-rate-test")),
        nat_gateway_ids=("nat-1", "nat-2", "nat-3"),
    )
