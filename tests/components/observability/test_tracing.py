"""Fraud-path sampling rules and group: scoped to one stage, within X-Ray's name limits."""

from __future__ import annotations

from components.naming import ResourceNamer
from components.observability.sources import MonitoredGateway
from components.observability.tracing import XRAY_NAME_LIMIT, FraudPathTracing, fraud_path_filter
from config.settings import ObservabilitySettings


def test_filter_expression_scopes_to_the_service_and_both_paths():
    assert fraud_path_filter("api/dev") == (
        'service("api/dev") AND ((http.method = "POST" AND http.url CONTAINS "/transactions") '
        'OR (http.method = "POST" AND http.url CONTAINS "/api/v1/score"))'
    )


def test_names_fit_xray_limits_even_with_the_longest_suffix(bare_stack):
    stack, synth = bare_stack
    naming = ResourceNamer(prefix="fraud", suffix="abcdefghij", path_root="fraud-detection")
    FraudPathTracing(
        stack,
        "tracing",
        naming=naming,
        gateway=MonitoredGateway(rest_api_name="fraud-api-abcdefghij", stage_name="abcdefghij"),
        settings=ObservabilitySettings(
            alarm_email="oncall@example.com", fraud_path_sampling_rate=0.5, fraud_path_sampling_reservoir_per_second=3
        ),
    )
    resources = synth()["resource"]
    rules = resources["aws_xray_sampling_rule"].values()
    names = [rule["rule_name"] for rule in rules] + [group["group_name"] for group in resources["aws_xray_group"].values()]
    assert all(len(name) <= XRAY_NAME_LIMIT and name.endswith("-abcdefghij") for name in names), names
    assert len(set(names)) == len(names)
    assert {(rule["fixed_rate"], rule["reservoir_size"], rule["service_name"]) for rule in rules} == {(0.5, 3, "fraud-api-abcdefghij/abcdefghij")}
