"""The environment's CloudWatch dashboard: small functions that each return one widget (a dict
in CloudWatch's dashboard-body format), one that lays them out and serialises the body, and the
construct that deploys it. Terraform tokens (names from upstream contracts) sit inside the
strings; cdktf resolves them when it writes the stack.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from constructs import Construct

from components.observability.sources import (
    MonitoredDatabase,
    MonitoredFirewall,
    MonitoredFunction,
    MonitoredGateway,
    MonitoredLoadBalancer,
    MonitoredPlatform,
    MonitoredQueues,
    MonitoredService,
    MonitoredVpcLink,
)

Widget = dict[str, Any]
MetricLine = list[Any]

DASHBOARD_COLUMNS = 24
FULL, HALF, THIRD = 24, 12, 8
WIDGET_HEIGHT = 6
# One-minute points: the resolution every service here publishes at.
PERIOD_SECONDS = 60
LATENCY_PERCENTILES = ("p50", "p90", "p99")


# --- building blocks -------------------------------------------------------------------------


def metric(namespace: str, name: str, dimensions: Mapping[str, str], **options: Any) -> MetricLine:
    """One metric line: `[namespace, name, dim, value, ..., {options}]`."""
    line: MetricLine = [namespace, name]
    for key, value in dimensions.items():
        line += [key, value]
    return line + [options] if options else line


def expression(query_id: str, formula: str, label: str, **options: Any) -> MetricLine:
    """A metric-math line; the metrics it reads carry `id`s and `visible: False`."""
    return [{"expression": formula, "label": label, "id": query_id, **options}]


def metric_widget(
    title: str,
    metrics: Sequence[MetricLine],
    *,
    region: str,
    stat: str = "Average",
    period: int = PERIOD_SECONDS,
    width: int = HALF,
    left_label: str | None = None,
    right_label: str | None = None,
) -> Widget:
    y_axis: dict[str, Any] = {"left": {"min": 0, **({"label": left_label} if left_label else {})}}
    if right_label:
        y_axis["right"] = {"min": 0, "label": right_label}
    return {
        "type": "metric",
        "width": width,
        "height": WIDGET_HEIGHT,
        "properties": {
            "title": title,
            "region": region,
            "view": "timeSeries",
            "stacked": False,
            "stat": stat,
            "period": period,
            "metrics": list(metrics),
            "yAxis": y_axis,
        },
    }


def alarm_status_widget(title: str, alarm_arns: Sequence[str]) -> Widget:
    return {
        "type": "alarm",
        "width": FULL,
        "height": WIDGET_HEIGHT,
        "properties": {"title": title, "alarms": list(alarm_arns), "sortBy": "stateUpdatedTimestamp"},
    }


def layout(widgets: Sequence[Widget], columns: int = DASHBOARD_COLUMNS) -> list[Widget]:
    """Place widgets left to right, wrapping into rows, so the order here is the order on screen."""
    placed, x, y, row_height = [], 0, 0, 0
    for widget in widgets:
        if x + widget["width"] > columns:
            x, y, row_height = 0, y + row_height, 0
        placed.append({**widget, "x": x, "y": y})
        x += widget["width"]
        row_height = max(row_height, widget["height"])
    return placed


def dashboard_body(widgets: Sequence[Widget]) -> str:
    return json.dumps({"widgets": layout(widgets)})


# --- one function per concern ----------------------------------------------------------------


def api_latency_widgets(gateway: MonitoredGateway, load_balancer: MonitoredLoadBalancer, *, region: str) -> list[Widget]:
    """What clients wait for (gateway, ms) beside fraud-api's own share (ALB target, seconds)."""
    return [
        metric_widget(
            "API Gateway latency (ms)",
            [metric("AWS/ApiGateway", "Latency", gateway.dimensions, stat=p, label=p) for p in LATENCY_PERCENTILES],
            region=region,
            left_label="ms",
        ),
        metric_widget(
            "ALB target response time (s)",
            [metric("AWS/ApplicationELB", "TargetResponseTime", load_balancer.dimensions, stat=p, label=p) for p in LATENCY_PERCENTILES],
            region=region,
            left_label="seconds",
        ),
    ]


def _hidden(query_id: str) -> dict[str, Any]:
    return {"id": query_id, "visible": False, "stat": "Sum"}


def error_rate_widgets(gateway: MonitoredGateway, load_balancer: MonitoredLoadBalancer, *, region: str) -> list[Widget]:
    """4xx and 5xx as a share of requests: a count means nothing without the traffic beside it."""
    gateway_lines = [
        expression("gateway_4xx_rate", "IF(requests > 0, client_errors / requests * 100, 0)", "4XX %"),
        expression("gateway_5xx_rate", "IF(requests > 0, server_errors / requests * 100, 0)", "5XX %"),
        metric("AWS/ApiGateway", "4XXError", gateway.dimensions, **_hidden("client_errors")),
        metric("AWS/ApiGateway", "5XXError", gateway.dimensions, **_hidden("server_errors")),
        metric("AWS/ApiGateway", "Count", gateway.dimensions, **_hidden("requests")),
    ]
    # The ALB publishes its HTTPCode_* counts only when they are non-zero, hence FILL.
    alb = load_balancer.dimensions
    alb_lines = [
        expression("target_4xx_rate", "IF(requests > 0, FILL(target_4xx, 0) / requests * 100, 0)", "target 4XX %"),
        expression("target_5xx_rate", "IF(requests > 0, FILL(target_5xx, 0) / requests * 100, 0)", "target 5XX %"),
        expression("elb_5xx_rate", "IF(requests > 0, FILL(elb_5xx, 0) / requests * 100, 0)", "load balancer 5XX %"),
        metric("AWS/ApplicationELB", "HTTPCode_Target_4XX_Count", alb, **_hidden("target_4xx")),
        metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", alb, **_hidden("target_5xx")),
        metric("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", alb, **_hidden("elb_5xx")),
        metric("AWS/ApplicationELB", "RequestCount", alb, **_hidden("requests")),
    ]
    return [
        metric_widget("API Gateway 4XX / 5XX rate (%)", gateway_lines, region=region, stat="Sum", left_label="%"),
        metric_widget("ALB 4XX / 5XX rate (%)", alb_lines, region=region, stat="Sum", left_label="%"),
    ]


def database_widgets(database: MonitoredDatabase, *, region: str) -> list[Widget]:
    dimensions = database.dimensions
    return [
        metric_widget(
            "Aurora connections",
            [metric("AWS/RDS", "DatabaseConnections", dimensions, stat="Maximum", label="connections")],
            region=region,
            width=THIRD,
        ),
        metric_widget(
            "Aurora capacity (ACUs)",
            [
                metric("AWS/RDS", "ServerlessDatabaseCapacity", dimensions, stat="Average", label="average ACUs"),
                metric("AWS/RDS", "ServerlessDatabaseCapacity", dimensions, stat="Maximum", label="maximum ACUs"),
            ],
            region=region,
            width=THIRD,
            left_label="ACU",
        ),
        metric_widget(
            "Aurora CPU (%)",
            [metric("AWS/RDS", "CPUUtilization", dimensions, stat="Average", label="CPU %")],
            region=region,
            width=THIRD,
            left_label="%",
        ),
    ]


def service_widgets(service: MonitoredService, load_balancer: MonitoredLoadBalancer, *, region: str) -> list[Widget]:
    dimensions = service.dimensions
    healthy = [
        metric(
            "AWS/ApplicationELB",
            "HealthyHostCount",
            load_balancer.target_group_dimensions(target_group),
            stat="Minimum",
            label=f"healthy targets ({colour})",
        )
        for colour, target_group in load_balancer.target_group_arn_suffixes.by_colour().items()
    ]
    return [
        metric_widget(
            "fraud-api CPU / memory (%)",
            [
                metric("AWS/ECS", "CPUUtilization", dimensions, label="CPU %"),
                metric("AWS/ECS", "MemoryUtilization", dimensions, label="memory %"),
            ],
            region=region,
            left_label="%",
        ),
        metric_widget(
            "fraud-api tasks",
            [
                metric("ECS/ContainerInsights", "RunningTaskCount", dimensions, stat="Maximum", label="running"),
                metric("ECS/ContainerInsights", "DesiredTaskCount", dimensions, stat="Maximum", label="desired"),
                *healthy,
            ],
            region=region,
            stat="Maximum",
        ),
    ]


def function_widget(function: MonitoredFunction, *, region: str) -> Widget:
    dimensions = function.dimensions
    return metric_widget(
        f"Lambda {function.label}",
        [
            metric("AWS/Lambda", "Invocations", dimensions, stat="Sum", label="invocations"),
            metric("AWS/Lambda", "Errors", dimensions, stat="Sum", label="errors"),
            metric("AWS/Lambda", "Throttles", dimensions, stat="Sum", label="throttles"),
            metric("AWS/Lambda", "Duration", dimensions, stat="p99", label="duration p99 (ms)", yAxis="right"),
            metric("AWS/Lambda", "Duration", dimensions, stat="Average", label="duration average (ms)", yAxis="right"),
        ],
        region=region,
        stat="Sum",
        left_label="count",
        right_label="ms",
    )


def queue_widgets(queues: MonitoredQueues, *, region: str) -> list[Widget]:
    alerts = {"QueueName": queues.alerts_queue_name}
    return [
        metric_widget(
            "Alerts queue: depth and age of oldest",
            [
                metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", alerts, label="visible messages"),
                metric("AWS/SQS", "ApproximateAgeOfOldestMessage", alerts, label="oldest message (s)", yAxis="right"),
            ],
            region=region,
            stat="Maximum",
            left_label="messages",
            right_label="seconds",
        ),
        metric_widget(
            "Dead-letter queues: depth (must be 0)",
            [
                metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": name}, label=name)
                for name in queues.dead_letter_queue_names
            ],
            region=region,
            stat="Maximum",
            left_label="messages",
        ),
    ]


def firewall_widget(firewall: MonitoredFirewall, *, region: str) -> Widget:
    return metric_widget(
        "WAF blocked requests",
        [
            metric("AWS/WAFV2", "BlockedRequests", firewall.dimensions(region), label="all rules"),
            *(
                metric("AWS/WAFV2", "BlockedRequests", firewall.dimensions(region, rule), label=rule)
                for rule in firewall.rule_metric_names
            ),
        ],
        region=region,
        stat="Sum",
    )


def vpc_link_widget(vpc_link: MonitoredVpcLink, *, region: str) -> Widget:
    """API Gateway reaches fraud-api only through this NLB; an unhealthy ALB target cuts the path."""
    dimensions = vpc_link.target_group_dimensions
    return metric_widget(
        "VPC link NLB: ALB target health",
        [
            metric("AWS/NetworkELB", "HealthyHostCount", dimensions, stat="Minimum", label="healthy"),
            metric("AWS/NetworkELB", "UnHealthyHostCount", dimensions, stat="Maximum", label="unhealthy"),
        ],
        region=region,
    )


def nat_widget(nat_gateway_ids: Sequence[str], *, region: str) -> Widget:
    """Port exhaustion and drops on the only way out of the private subnets."""
    return metric_widget(
        "NAT gateway errors",
        [
            line
            for nat_id in nat_gateway_ids
            for line in (
                metric("AWS/NATGateway", "ErrorPortAllocation", {"NatGatewayId": nat_id}),
                metric("AWS/NATGateway", "PacketsDropCount", {"NatGatewayId": nat_id}),
            )
        ],
        region=region,
        stat="Sum",
        period=300,
    )


def platform_widgets(platform: MonitoredPlatform, *, region: str, alarm_arns: Sequence[str]) -> list[Widget]:
    """The whole dashboard, top to bottom: alarms, the request path, the pipeline, the plumbing."""
    return [
        alarm_status_widget("Alarms", alarm_arns),
        *api_latency_widgets(platform.gateway, platform.load_balancer, region=region),
        *error_rate_widgets(platform.gateway, platform.load_balancer, region=region),
        *service_widgets(platform.service, platform.load_balancer, region=region),
        *database_widgets(platform.database, region=region),
        *(function_widget(function, region=region) for function in platform.functions),
        *queue_widgets(platform.queues, region=region),
        firewall_widget(platform.firewall, region=region),
        vpc_link_widget(platform.vpc_link, region=region),
        # An environment without NAT (its tiers reach AWS only through endpoints) has nothing to show.
        *([nat_widget(platform.nat_gateway_ids, region=region)] if platform.nat_gateway_ids else []),
    ]


class PlatformDashboard(Construct):
    """The environment's dashboard (`platform_widgets`), and the console URL that opens it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        platform: MonitoredPlatform,
        region: str,
        alarm_arns: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.dashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=name,
            dashboard_body=dashboard_body(platform_widgets(platform, region=region, alarm_arns=alarm_arns)),
        )
        self.url = (
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#dashboards:name={self.dashboard.dashboard_name}"
        )
