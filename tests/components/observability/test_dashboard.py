"""The dashboard builders: valid CloudWatch body, every metric-math id defined, widgets in a grid."""

from __future__ import annotations

import json
import re

from components.observability.dashboard import (
    DASHBOARD_COLUMNS,
    dashboard_body,
    expression,
    layout,
    metric,
    nat_widget,
    platform_widgets,
)


def test_metric_line_is_namespace_name_dimension_pairs_then_options():
    assert metric("AWS/SQS", "NumberOfMessagesSent", {"QueueName": "q"}) == ["AWS/SQS", "NumberOfMessagesSent", "QueueName", "q"]
    assert metric("AWS/ApiGateway", "Latency", {"ApiName": "a", "Stage": "s"}, stat="p99") == [
        "AWS/ApiGateway", "Latency", "ApiName", "a", "Stage", "s", {"stat": "p99"},
    ]
    assert expression("rate", "a / b", "rate") == [{"expression": "a / b", "label": "rate", "id": "rate"}]


def test_layout_fills_rows_left_to_right_and_wraps():
    widgets = [{"width": 12, "height": 6}, {"width": 12, "height": 6}, {"width": 8, "height": 3}, {"width": 24, "height": 6}]
    placed = layout(widgets)
    assert [(w["x"], w["y"]) for w in placed] == [(0, 0), (12, 0), (0, 6), (0, 9)]


def _cells(widget):
    return {(x, y) for x in range(widget["x"], widget["x"] + widget["width"]) for y in range(widget["y"], widget["y"] + widget["height"])}


def test_platform_dashboard_is_valid_and_nothing_overlaps(platform):
    body = json.loads(dashboard_body(platform_widgets(platform, region="us-east-1", alarm_arns=["arn:alarm:1"])))
    widgets = body["widgets"]
    taken: set = set()
    for widget in widgets:
        assert widget["x"] + widget["width"] <= DASHBOARD_COLUMNS
        cells = _cells(widget)
        assert not cells & taken, widget["properties"]["title"]
        taken |= cells
        if widget["type"] == "metric":
            assert widget["properties"]["region"] == "us-east-1"
            assert widget["properties"]["metrics"], widget["properties"]["title"]


def test_every_expression_reads_only_ids_defined_in_its_widget(platform):
    for widget in platform_widgets(platform, region="us-east-1", alarm_arns=[]):
        if widget["type"] != "metric":
            continue
        lines = widget["properties"]["metrics"]
        ids = {line[-1]["id"] for line in lines if isinstance(line[-1], dict) and "id" in line[-1]}
        for line in lines:
            if isinstance(line[0], dict):
                referenced = set(re.findall(r"\b([a-z]\w*)\b", line[0]["expression"])) - {"IF", "FILL"}
                assert referenced <= ids, (widget["properties"]["title"], referenced - ids)
                assert re.fullmatch(r"[a-z]\w*", line[0]["id"])


def test_one_widget_per_function_and_a_line_per_dead_letter_queue(platform):
    widgets = {w["properties"]["title"]: w for w in platform_widgets(platform, region="r", alarm_arns=[])}
    assert {"Lambda transaction-processor", "Lambda pattern-analyzer"} <= set(widgets)
    dead_letters = widgets["Dead-letter queues: depth (must be 0)"]["properties"]["metrics"]
    assert [line[3] for line in dead_letters] == list(platform.queues.dead_letter_queue_names)


def test_nat_widget_has_both_error_metrics_for_every_gateway():
    lines = nat_widget(("nat-a", "nat-b"), region="r")["properties"]["metrics"]
    assert sorted((line[1], line[3]) for line in lines) == [
        ("ErrorPortAllocation", "nat-a"), ("ErrorPortAllocation", "nat-b"), ("PacketsDropCount", "nat-a"), ("PacketsDropCount", "nat-b"),
    ]
