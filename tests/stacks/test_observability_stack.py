"""The observability layer of every environment: alarms, dashboard, tracing and the alarm topic.

Every monitored value must be the upstream contract's value, read through remote state: the
`Upstream` helper resolves a contract field to the producer's resource attribute, finds the output
cdktf made for it, and gives the exact `${data.terraform_remote_state...}` string the consumer
must contain. A dimension pointing at the wrong resource, a hard-coded name or a wrong threshold
fails here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cdktf import DefaultTokenResolver, StringConcat, Tokenization

from stacks.layers import Layer, stack_id

ENVIRONMENTS = ("dev", "staging", "prod")
SERVICES = Path(__file__).resolve().parents[2] / "services" / "fraud_api"
FUNCTION_LABELS = ("transaction-processor", "pattern-analyzer")


@dataclass
class Upstream:
    """Contract values of one environment, as the observability stack must reference them."""

    synthesis: Any
    environment: str

    def __call__(self, layer: Layer, value: str) -> str:
        producer = self.synthesis.stacks_by_environment[self.environment].by_layer()[layer]
        expression = Tokenization.resolve(value, scope=producer, resolver=DefaultTokenResolver(StringConcat()))
        if "${" not in expression:
            return expression  # a plain string in the contract is used as it is
        outputs = self.synthesis.stack(layer, self.environment).config["output"]
        names = [name for name, body in outputs.items() if name.startswith("cross-stack-output-") and body["value"] == expression]
        assert len(names) == 1, f"{layer.value}-{self.environment} exports {expression} as {names}"
        remote = f"cross-stack-reference-input-{stack_id(layer, self.environment)}"
        return f"${{data.terraform_remote_state.{remote}.outputs.{names[0]}}}"

    @property
    def contracts(self):
        return self.synthesis.stacks_by_environment[self.environment]


@pytest.fixture(params=ENVIRONMENTS)
def observability(request, synthesis):
    environment = request.param
    return synthesis.stack(Layer.OBSERVABILITY, environment), synthesis.environments[environment], Upstream(synthesis, environment)


def _alarms(stack) -> dict[str, dict]:
    return {body["alarm_name"]: body for body in stack.resources("aws_cloudwatch_metric_alarm").values()}


def _alarm(stack, config, role: str) -> dict:
    name = f"fraud-{role}-{config.suffix}"
    alarms = _alarms(stack)
    assert name in alarms, f"no alarm {name}; alarms are {sorted(alarms)}"
    return alarms[name]


def _topic_reference(stack) -> str:
    (name,) = stack.resources("aws_sns_topic")
    return f"${{aws_sns_topic.{name}.arn}}"


def _region(stack) -> str:
    (name,) = stack.data_sources("aws_region")
    return f"${{data.aws_region.{name}.name}}"


def _queries(alarm: dict) -> dict[str, dict]:
    return {query["id"]: query for query in alarm["metric_query"]}


def _returned_expression(alarm: dict) -> str:
    (returned,) = [query for query in alarm["metric_query"] if query.get("return_data")]
    return returned["expression"]


# --- the alarm topic ---------------------------------------------------------------------------


def test_alarm_topic_is_encrypted_with_the_messaging_key_and_mails_on_call(observability):
    stack, config, upstream = observability
    topic = stack.only("aws_sns_topic")
    assert topic["kms_master_key_id"] == upstream(Layer.DATA, upstream.contracts.data.contract.messaging_key_arn)
    assert topic["name"] == f"fraud-alarms-{config.suffix}"
    subscription = stack.only("aws_sns_topic_subscription")
    assert subscription["protocol"] == "email"
    assert subscription["endpoint"] == config.observability.alarm_email
    assert subscription["topic_arn"] == _topic_reference(stack)


def test_topic_policy_admits_cloudwatch_for_this_environments_alarms_only(observability):
    stack, config, _ = observability
    policy = stack.only("aws_sns_topic_policy")
    (document_name,) = [name for name in stack.data_sources("aws_iam_policy_document") if f"{name}.json" in policy["policy"]]
    statements = {s["sid"]: s for s in stack.data_sources("aws_iam_policy_document")[document_name]["statement"]}
    cloudwatch = statements["CloudWatchAlarmsOfThisEnvironment"]
    assert cloudwatch["principals"] == [{"type": "Service", "identifiers": ["cloudwatch.amazonaws.com"]}]
    assert cloudwatch["actions"] == ["sns:Publish"] and cloudwatch["resources"] == [_topic_reference(stack)]
    conditions = {c["variable"]: c for c in cloudwatch["condition"]}
    assert conditions["aws:SourceAccount"]["test"] == "StringEquals"
    assert conditions["aws:SourceArn"]["test"] == "ArnLike"
    (source_arn,) = conditions["aws:SourceArn"]["values"]
    assert source_arn.endswith(f":alarm:fraud-*-{config.suffix}")
    assert all(re.fullmatch(f"fraud-.*-{config.suffix}", name) for name in _alarms(stack)), "an alarm the policy refuses"
    assert statements["DenyInsecureTransport"]["effect"] == "Deny"


def test_the_messaging_key_lets_cloudwatch_alarms_publish_to_encrypted_topics(synthesis, observability):
    """The data layer's key policy, checked from here because the alarms depend on it."""
    _, config, upstream = observability
    data = synthesis.stack(Layer.DATA, config.name)
    key_reference = Tokenization.resolve(
        upstream.contracts.data.contract.messaging_key_arn, scope=upstream.contracts.data, resolver=DefaultTokenResolver(StringConcat())
    )
    key_name = key_reference.split(".")[1]
    policy_reference = data.resources("aws_kms_key")[key_name]["policy"]
    document = data.data_sources("aws_iam_policy_document")[policy_reference.split(".")[2]]
    (statement,) = [
        s for s in document["statement"] if {"type": "Service", "identifiers": ["cloudwatch.amazonaws.com"]} in s.get("principals", [])
    ]
    assert {"kms:GenerateDataKey*", "kms:Decrypt"} <= set(statement["actions"])


# --- alarms ------------------------------------------------------------------------------------


def expected_alarm_roles(upstream: Upstream) -> set[str]:
    queues = upstream.contracts.compute.contract.dead_letter_queue_names
    return {
        "gateway-latency-p99",
        "alb-latency-p99",
        "gateway-5xx-rate",
        "alb-5xx-rate",
        "ecs-healthy-tasks",
        "api-refused-to-serve",
        "api-config-refresh-failing",
        "aurora-connections",
        *(f"{label}-error-rate" for label in FUNCTION_LABELS),
        *(f"dlq-not-empty-{number}" for number in range(1, len(queues) + 1)),
    }


def test_the_environment_has_exactly_the_expected_alarms(observability):
    stack, config, upstream = observability
    assert set(_alarms(stack)) == {f"fraud-{role}-{config.suffix}" for role in expected_alarm_roles(upstream)}


def test_every_alarm_notifies_the_alarm_topic_when_it_fires_and_recovers(observability):
    stack, _, _ = observability
    topic = _topic_reference(stack)
    for name, alarm in _alarms(stack).items():
        assert alarm["actions_enabled"] is True, name
        assert alarm["alarm_actions"] == [topic], name
        assert alarm["ok_actions"] == [topic], name
        assert alarm["treat_missing_data"] in ("notBreaching", "breaching", "missing"), name


def test_latency_alarms_hold_p99_to_the_configured_objective(observability):
    stack, config, upstream = observability
    edge, compute = upstream.contracts.edge.contract, upstream.contracts.compute.contract
    threshold_ms = config.observability.api_latency_p99_threshold_ms
    expected = {
        "gateway-latency-p99": (
            "AWS/ApiGateway",
            "Latency",
            {"ApiName": upstream(Layer.EDGE, edge.rest_api_name), "Stage": upstream(Layer.EDGE, edge.stage_name)},
            threshold_ms,
        ),
        # TargetResponseTime is in seconds.
        "alb-latency-p99": (
            "AWS/ApplicationELB",
            "TargetResponseTime",
            {"LoadBalancer": upstream(Layer.COMPUTE, compute.load_balancer_arn_suffix)},
            threshold_ms / 1000,
        ),
    }
    for role, (namespace, metric, dimensions, threshold) in expected.items():
        alarm = _alarm(stack, config, role)
        assert (alarm["namespace"], alarm["metric_name"], alarm["dimensions"]) == (namespace, metric, dimensions), role
        assert alarm["extended_statistic"] == "p99" and "statistic" not in alarm, role
        assert alarm["threshold"] == pytest.approx(threshold), role
        assert alarm["comparison_operator"] == "GreaterThanThreshold", role
        assert (alarm["period"], alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (60, 5, 3), role
        assert alarm["treat_missing_data"] == "notBreaching", role


def test_healthy_task_alarm_watches_whichever_target_group_is_live(observability):
    stack, config, upstream = observability
    compute = upstream.contracts.compute.contract
    alarm = _alarm(stack, config, "ecs-healthy-tasks")
    assert "metric_name" not in alarm
    queries = _queries(alarm)
    expression = _returned_expression(alarm)
    match = re.fullmatch(r"MAX\(\[(\w+), (\w+)\]\)", expression)
    assert match, expression
    load_balancer = upstream(Layer.COMPUTE, compute.load_balancer_arn_suffix)
    groups = set()
    for query_id in match.groups():
        metric = queries[query_id]["metric"]
        assert (metric["namespace"], metric["metric_name"], metric["stat"], metric["period"]) == (
            "AWS/ApplicationELB", "HealthyHostCount", "Minimum", 60,
        )
        assert metric["dimensions"]["LoadBalancer"] == load_balancer
        groups.add(metric["dimensions"]["TargetGroup"])
    pair = compute.target_group_arn_suffixes
    assert groups == {upstream(Layer.COMPUTE, pair.blue), upstream(Layer.COMPUTE, pair.green)}
    assert alarm["threshold"] == config.compute.fraud_api_min_tasks
    assert alarm["comparison_operator"] == "LessThanThreshold"
    assert alarm["evaluation_periods"] == 3
    assert alarm["treat_missing_data"] == "breaching"


def test_aurora_connection_alarm_uses_the_environment_threshold(observability):
    stack, config, upstream = observability
    alarm = _alarm(stack, config, "aurora-connections")
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == ("AWS/RDS", "DatabaseConnections", "Maximum")
    assert alarm["dimensions"] == {
        "DBClusterIdentifier": upstream(Layer.DATA, upstream.contracts.data.contract.database_cluster_identifier)
    }
    assert alarm["threshold"] == config.observability.aurora_connections_threshold
    assert alarm["comparison_operator"] == "GreaterThanThreshold"
    assert (alarm["period"], alarm["evaluation_periods"]) == (60, 5)
    assert alarm["treat_missing_data"] == "missing"


def _assert_percentage(alarm: dict, failures: tuple[str, str, dict], total: tuple[str, str, dict], ids: tuple[str, str], fill: bool) -> None:
    failures_id, total_id = ids
    failures_term = f"FILL({failures_id}, 0)" if fill else failures_id
    assert "metric_name" not in alarm and "statistic" not in alarm, "a raw count, not a rate"
    assert _returned_expression(alarm) == f"IF({total_id} > 0, {failures_term} / {total_id} * 100, 0)"
    queries = _queries(alarm)
    assert set(queries) == {"rate", failures_id, total_id}
    for query_id, (namespace, metric_name, dimensions) in ((failures_id, failures), (total_id, total)):
        metric = queries[query_id]["metric"]
        assert queries[query_id]["return_data"] is False
        assert (metric["namespace"], metric["metric_name"], metric["dimensions"]) == (namespace, metric_name, dimensions)
        assert (metric["stat"], metric["period"]) == ("Sum", 300)
    assert alarm["comparison_operator"] == "GreaterThanThreshold"
    assert alarm["evaluation_periods"] == 1
    assert alarm["treat_missing_data"] == "notBreaching"


def test_lambda_error_rate_alarms_are_metric_math_per_function(observability):
    stack, config, upstream = observability
    compute = upstream.contracts.compute.contract
    functions = {
        "transaction-processor": compute.transaction_processor_function_name,
        "pattern-analyzer": compute.pattern_analyzer_function_name,
    }
    for label, function_name in functions.items():
        alarm = _alarm(stack, config, f"{label}-error-rate")
        dimensions = {"FunctionName": upstream(Layer.COMPUTE, function_name)}
        _assert_percentage(
            alarm,
            ("AWS/Lambda", "Errors", dimensions),
            ("AWS/Lambda", "Invocations", dimensions),
            ids=("errors", "invocations"),
            fill=False,
        )
        assert alarm["threshold"] == config.observability.lambda_error_rate_threshold_percent


def test_5xx_rate_alarms_at_the_gateway_and_the_alb(observability):
    stack, config, upstream = observability
    edge, compute = upstream.contracts.edge.contract, upstream.contracts.compute.contract
    gateway = {"ApiName": upstream(Layer.EDGE, edge.rest_api_name), "Stage": upstream(Layer.EDGE, edge.stage_name)}
    alb = {"LoadBalancer": upstream(Layer.COMPUTE, compute.load_balancer_arn_suffix)}
    gateway_alarm = _alarm(stack, config, "gateway-5xx-rate")
    _assert_percentage(gateway_alarm, ("AWS/ApiGateway", "5XXError", gateway), ("AWS/ApiGateway", "Count", gateway), ("errors", "requests"), fill=False)
    alb_alarm = _alarm(stack, config, "alb-5xx-rate")
    # The ALB publishes HTTPCode_Target_5XX_Count only when it is non-zero.
    _assert_percentage(
        alb_alarm,
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", alb),
        ("AWS/ApplicationELB", "RequestCount", alb),
        ("errors", "requests"),
        fill=True,
    )
    for alarm in (gateway_alarm, alb_alarm):
        assert alarm["threshold"] == config.observability.http_5xx_rate_threshold_percent


def test_one_dead_letter_alarm_per_dead_letter_queue(observability):
    stack, _, upstream = observability
    queues = [upstream(Layer.COMPUTE, name) for name in upstream.contracts.compute.contract.dead_letter_queue_names]
    assert len(queues) == len(set(queues)) >= 4
    watched = []
    for name, alarm in _alarms(stack).items():
        if alarm.get("metric_name") != "ApproximateNumberOfMessagesVisible":
            continue
        assert "dlq-not-empty" in name
        assert (alarm["namespace"], alarm["statistic"], alarm["period"], alarm["evaluation_periods"]) == ("AWS/SQS", "Maximum", 300, 1)
        assert alarm["comparison_operator"] == "GreaterThanThreshold" and alarm["threshold"] == 0
        assert alarm["treat_missing_data"] == "notBreaching"
        assert alarm["dimensions"]["QueueName"] in alarm["alarm_description"]
        watched.append(alarm["dimensions"]["QueueName"])
    assert sorted(watched) == sorted(queues)


def _json_filter_matches(pattern: str, line: str) -> bool:
    """CloudWatch Logs' JSON filter `{ $.message = "..." }` (the only form the compute layer writes) against one log line."""
    match = re.fullmatch(r'\{ \$\.message = "(?P<message>[^"]*)" \}', pattern)
    assert match, f"not a message filter: {pattern}"
    return json.loads(line).get("message") == match["message"]


def _service_log_line(logger: str, message: str) -> str:
    """The line fraud-api writes for `message`, through its own JSON formatter."""
    import logging

    from fraud_api.logs import JsonFormatter

    record = logging.LogRecord(logger, logging.ERROR, __file__, 1, message, None, None)
    record.problems = ["a problem"]
    return JsonFormatter().format(record)


@pytest.mark.parametrize(
    "role, metric, period, periods, logger, message",
    [
        ("api-refused-to-serve", "RefusalsToServe", 60, 1, "fraud_api.app", "refusing to serve"),
        ("api-config-refresh-failing", "ApiConfigRefreshFailures", 300, 2, "fraud_api.api_config", "API config refresh failed; keeping the last good one"),
    ],
)
def test_log_signal_alarms_count_what_fraud_api_logs(synthesis, observability, role, metric, period, periods, logger, message):
    stack, config, upstream = observability
    alarm = _alarm(stack, config, role)
    compute = synthesis.stack(Layer.COMPUTE, config.name)
    # The alarm watches the very metric the compute layer's filter writes, read through remote state...
    names = upstream.contracts.compute.contract.fraud_api_log_metrics
    field = {"RefusalsToServe": names.refusals_to_serve, "ApiConfigRefreshFailures": names.api_config_refresh_failures}[metric]
    assert (alarm["namespace"], alarm["metric_name"]) == (upstream(Layer.COMPUTE, names.namespace), upstream(Layer.COMPUTE, field))
    filters = compute.resources("aws_cloudwatch_log_metric_filter")

    def published(reference: str) -> tuple[dict, str]:
        """The filter (and its transformation's attribute) a remote-state reference of the compute layer names."""
        value = compute.config["output"][reference.rsplit(".", 1)[1].rstrip("}")]["value"]
        match = re.fullmatch(r"\$\{aws_cloudwatch_log_metric_filter\.([^.]+)\.metric_transformation\[0\]\.(name|namespace)\}", value)
        assert match, value
        return filters[match[1]], match[2]

    metric_filter, attribute = published(alarm["metric_name"])
    namespace_filter, namespace_attribute = published(alarm["namespace"])
    assert (attribute, namespace_attribute) == ("name", "namespace")
    transformation = metric_filter["metric_transformation"]
    assert (transformation["namespace"], transformation["name"]) == (f"fraud-api-{config.name}", metric)
    assert namespace_filter["metric_transformation"]["namespace"] == transformation["namespace"], "every signal counts into one namespace"
    assert (alarm["statistic"], alarm["period"], alarm["evaluation_periods"]) == ("Sum", period, periods)
    assert alarm["comparison_operator"] == "GreaterThanThreshold" and alarm["threshold"] == 0
    assert alarm["treat_missing_data"] == "notBreaching" and "dimensions" not in alarm
    assert (transformation["value"], transformation["default_value"]) == ("1", "0")
    # ...on the service's log group, counting the line the service writes, and only that one.
    (group_id,) = [logical_id for logical_id, body in compute.resources("aws_cloudwatch_log_group").items() if body["name"] == f"/ecs/fraud-api-{config.name}"]
    assert metric_filter["log_group_name"] == f"${{aws_cloudwatch_log_group.{group_id}.name}}"
    source = (SERVICES / f"{logger.split('.')[1]}.py").read_text()
    assert f'"{message}"' in source, f"fraud-api no longer logs {message!r}: update components/compute/log_metrics.py"
    assert _json_filter_matches(metric_filter["pattern"], _service_log_line(logger, message))
    assert not _json_filter_matches(metric_filter["pattern"], _service_log_line(logger, message + " (again)"))


# --- the dashboard -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    namespace: str
    metric: str
    dimensions: dict[str, str]
    options: dict[str, Any]


def _widgets(stack) -> dict[str, dict]:
    body = json.loads(stack.only("aws_cloudwatch_dashboard")["dashboard_body"])
    widgets = body["widgets"]
    titles = [widget["properties"]["title"] for widget in widgets]
    assert len(titles) == len(set(titles)), titles
    return {widget["properties"]["title"]: widget for widget in widgets}


def _lines(widget: dict) -> list[Line]:
    lines = []
    for raw in widget["properties"]["metrics"]:
        if isinstance(raw[0], dict):
            continue  # an expression
        options = raw[-1] if isinstance(raw[-1], dict) else {}
        fields = raw[:-1] if options else raw
        namespace, metric, *pairs = fields
        lines.append(Line(namespace, metric, dict(zip(pairs[::2], pairs[1::2])), options))
    return lines


def _expressions(widget: dict) -> list[str]:
    return [raw[0]["expression"] for raw in widget["properties"]["metrics"] if isinstance(raw[0], dict)]


def test_dashboard_is_named_for_the_environment_and_lists_every_alarm(observability):
    stack, config, _ = observability
    dashboard = stack.only("aws_cloudwatch_dashboard")
    assert dashboard["dashboard_name"] == f"fraud-dashboard-{config.suffix}"
    alarms = _widgets(stack)["Alarms"]
    assert alarms["type"] == "alarm"
    expected = {f"${{aws_cloudwatch_metric_alarm.{name}.arn}}" for name in stack.resources("aws_cloudwatch_metric_alarm")}
    assert set(alarms["properties"]["alarms"]) == expected


def test_dashboard_shows_latency_percentiles_at_gateway_and_alb(observability):
    stack, _, upstream = observability
    widgets = _widgets(stack)
    edge, compute = upstream.contracts.edge.contract, upstream.contracts.compute.contract
    gateway = {"ApiName": upstream(Layer.EDGE, edge.rest_api_name), "Stage": upstream(Layer.EDGE, edge.stage_name)}
    alb = {"LoadBalancer": upstream(Layer.COMPUTE, compute.load_balancer_arn_suffix)}
    for title, (namespace, metric, dimensions) in {
        "API Gateway latency (ms)": ("AWS/ApiGateway", "Latency", gateway),
        "ALB target response time (s)": ("AWS/ApplicationELB", "TargetResponseTime", alb),
    }.items():
        lines = _lines(widgets[title])
        assert {(line.namespace, line.metric) for line in lines} == {(namespace, metric)}
        assert all(line.dimensions == dimensions for line in lines)
        assert sorted(line.options["stat"] for line in lines) == ["p50", "p90", "p99"]


def test_dashboard_shows_4xx_and_5xx_rates(observability):
    stack, _, upstream = observability
    widgets = _widgets(stack)
    edge, compute = upstream.contracts.edge.contract, upstream.contracts.compute.contract
    gateway = _lines(widgets["API Gateway 4XX / 5XX rate (%)"])
    assert {line.metric for line in gateway} == {"4XXError", "5XXError", "Count"}
    assert all(line.dimensions == {"ApiName": upstream(Layer.EDGE, edge.rest_api_name), "Stage": upstream(Layer.EDGE, edge.stage_name)} for line in gateway)
    alb = _lines(widgets["ALB 4XX / 5XX rate (%)"])
    assert {line.metric for line in alb} == {"HTTPCode_Target_4XX_Count", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "RequestCount"}
    assert all(line.dimensions == {"LoadBalancer": upstream(Layer.COMPUTE, compute.load_balancer_arn_suffix)} for line in alb)
    for title in ("API Gateway 4XX / 5XX rate (%)", "ALB 4XX / 5XX rate (%)"):
        expressions = _expressions(widgets[title])
        assert expressions and all(expression.startswith("IF(requests > 0, ") for expression in expressions)


def test_dashboard_shows_aurora_connections_capacity_and_cpu(observability):
    stack, _, upstream = observability
    widgets = _widgets(stack)
    cluster = {"DBClusterIdentifier": upstream(Layer.DATA, upstream.contracts.data.contract.database_cluster_identifier)}
    shown = {
        line.metric
        for title in ("Aurora connections", "Aurora capacity (ACUs)", "Aurora CPU (%)")
        for line in _lines(widgets[title])
        if line.namespace == "AWS/RDS" and line.dimensions == cluster
    }
    assert shown == {"DatabaseConnections", "ServerlessDatabaseCapacity", "CPUUtilization"}


def test_dashboard_shows_fraud_api_cpu_memory_and_tasks(observability):
    stack, _, upstream = observability
    widgets = _widgets(stack)
    compute = upstream.contracts.compute.contract
    service = {"ClusterName": upstream(Layer.COMPUTE, compute.cluster_name), "ServiceName": upstream(Layer.COMPUTE, compute.service_name)}
    usage = _lines(widgets["fraud-api CPU / memory (%)"])
    assert {(line.namespace, line.metric) for line in usage} == {("AWS/ECS", "CPUUtilization"), ("AWS/ECS", "MemoryUtilization")}
    assert all(line.dimensions == service for line in usage)
    tasks = _lines(widgets["fraud-api tasks"])
    running = [line for line in tasks if (line.namespace, line.metric) == ("ECS/ContainerInsights", "RunningTaskCount")]
    assert len(running) == 1 and running[0].dimensions == service
    healthy = {line.dimensions["TargetGroup"] for line in tasks if line.metric == "HealthyHostCount"}
    pair = compute.target_group_arn_suffixes
    assert healthy == {upstream(Layer.COMPUTE, pair.blue), upstream(Layer.COMPUTE, pair.green)}


def test_dashboard_shows_each_function_invocations_errors_duration_throttles(observability):
    stack, _, upstream = observability
    widgets = _widgets(stack)
    compute = upstream.contracts.compute.contract
    for label, function_name in (
        ("transaction-processor", compute.transaction_processor_function_name),
        ("pattern-analyzer", compute.pattern_analyzer_function_name),
    ):
        lines = _lines(widgets[f"Lambda {label}"])
        assert {line.metric for line in lines} == {"Invocations", "Errors", "Duration", "Throttles"}
        assert all(line.namespace == "AWS/Lambda" for line in lines)
        assert all(line.dimensions == {"FunctionName": upstream(Layer.COMPUTE, function_name)} for line in lines)


def test_dashboard_shows_the_alerts_queue_and_every_dead_letter_queue(observability):
    stack, _, upstream = observability
    widgets = _widgets(stack)
    compute = upstream.contracts.compute.contract
    alerts = _lines(widgets["Alerts queue: depth and age of oldest"])
    assert {line.metric for line in alerts} == {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"}
    assert all(line.dimensions == {"QueueName": upstream(Layer.COMPUTE, compute.alerts_queue_name)} for line in alerts)
    dead_letters = _lines(widgets["Dead-letter queues: depth (must be 0)"])
    assert all(line.metric == "ApproximateNumberOfMessagesVisible" for line in dead_letters)
    assert sorted(line.dimensions["QueueName"] for line in dead_letters) == sorted(
        upstream(Layer.COMPUTE, name) for name in compute.dead_letter_queue_names
    )


def test_dashboard_shows_waf_blocked_requests_in_total_and_per_rule(observability):
    stack, _, upstream = observability
    edge = upstream.contracts.edge.contract
    lines = _lines(_widgets(stack)["WAF blocked requests"])
    assert all((line.namespace, line.metric) == ("AWS/WAFV2", "BlockedRequests") for line in lines)
    acl = upstream(Layer.EDGE, edge.web_acl_metric_name)
    assert all(line.dimensions["WebACL"] == acl and line.dimensions["Region"] == _region(stack) for line in lines)
    assert sorted(line.dimensions["Rule"] for line in lines) == sorted(["ALL", *edge.web_acl_rule_metric_names])


def test_dashboard_shows_the_vpc_link_and_nat_gateways(observability):
    stack, config, upstream = observability
    widgets = _widgets(stack)
    edge = upstream.contracts.edge.contract
    vpc_link = _lines(widgets["VPC link NLB: ALB target health"])
    assert all(
        line.namespace == "AWS/NetworkELB"
        and line.dimensions
        == {
            "TargetGroup": upstream(Layer.EDGE, edge.vpc_link_target_group_arn_suffix),
            "LoadBalancer": upstream(Layer.EDGE, edge.vpc_link_load_balancer_arn_suffix),
        }
        for line in vpc_link
    )
    gateways = [upstream(Layer.NETWORK, nat_id) for nat_id in upstream.contracts.network.contract.nat_gateway_ids]
    assert len(gateways) == {"per_az": 3, "single": 1, "none": 0}[config.network.nat_strategy.value]
    if not gateways:
        # No NAT, nothing to watch: a widget without a metric is not a valid dashboard widget.
        assert "NAT gateway errors" not in widgets
        return
    nat = _lines(widgets["NAT gateway errors"])
    assert sorted(line.dimensions["NatGatewayId"] for line in nat if line.metric == "ErrorPortAllocation") == sorted(gateways)


def test_every_metric_widget_reads_the_stack_region(observability):
    stack, _, _ = observability
    for title, widget in _widgets(stack).items():
        if widget["type"] == "metric":
            assert widget["properties"]["region"] == _region(stack), title


def test_dashboard_url_output_points_at_the_dashboard_in_the_stack_region(observability):
    stack, _, _ = observability
    region = _region(stack)
    url = stack.config["output"]["dashboard_url"]["value"]
    assert url == (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        "#dashboards:name=${aws_cloudwatch_dashboard.dashboard.dashboard_name}"
    )


# --- X-Ray -------------------------------------------------------------------------------------


def test_sampling_rules_trace_the_fraud_paths_of_this_environments_stage(observability):
    stack, config, upstream = observability
    edge = upstream.contracts.edge.contract
    service = f"{upstream(Layer.EDGE, edge.rest_api_name)}/{upstream(Layer.EDGE, edge.stage_name)}"
    rules = {rule["url_path"]: rule for rule in stack.resources("aws_xray_sampling_rule").values()}
    assert set(rules) == {"*/transactions", "*/api/v1/score"}
    for rule in rules.values():
        assert len(rule["rule_name"]) <= 32 and rule["rule_name"].endswith(f"-{config.suffix}")
        assert (rule["service_name"], rule["service_type"]) == (service, "AWS::ApiGateway::Stage")
        assert rule["http_method"] == "POST"
        assert rule["fixed_rate"] == config.observability.fraud_path_sampling_rate
        assert rule["reservoir_size"] == config.observability.fraud_path_sampling_reservoir_per_second
        assert rule["priority"] < 10000 and rule["version"] == 1
    assert len({rule["rule_name"] for rule in rules.values()}) == len({rule["priority"] for rule in rules.values()}) == 2


def test_xray_group_gathers_the_fraud_path_traces(observability):
    stack, config, upstream = observability
    edge = upstream.contracts.edge.contract
    group = stack.only("aws_xray_group")
    assert len(group["group_name"]) <= 32 and group["group_name"].endswith(f"-{config.suffix}")
    expression = group["filter_expression"]
    assert expression.startswith(f'service("{upstream(Layer.EDGE, edge.rest_api_name)}/{upstream(Layer.EDGE, edge.stage_name)}") AND (')
    assert '(http.method = "POST" AND http.url CONTAINS "/transactions")' in expression
    assert '(http.method = "POST" AND http.url CONTAINS "/api/v1/score")' in expression
    assert group["insights_configuration"]["insights_enabled"] is True


# --- a leaf of the DAG -------------------------------------------------------------------------


def test_observability_is_a_leaf_nothing_reads(synthesis):
    for name, body in synthesis.manifest["stacks"].items():
        assert not any(dependency.startswith("observability-") for dependency in body["dependencies"]), name
    for stack in synthesis.stacks():
        keys = {body["config"]["key"] for body in stack.data_sources("terraform_remote_state").values()}
        assert not any(key.endswith("/observability.tfstate") for key in keys), stack.name
    for environment in ENVIRONMENTS:
        outputs = synthesis.stack(Layer.OBSERVABILITY, environment).config["output"]
        assert set(outputs) == {"dashboard_url", "alarm_topic_arn"}, "a cross-stack output means something reads this layer"


def test_observability_reads_every_upstream_layer_and_writes_no_name_of_theirs(observability):
    stack, config, _ = observability
    keys = {body["config"]["key"] for body in stack.data_sources("terraform_remote_state").values()}
    # The network layer gives observability only its NAT gateways, which an environment without NAT lacks.
    read = ("network", "data", "compute", "edge") if config.network.nat_strategy.value != "none" else ("data", "compute", "edge")
    assert keys == {f"{config.name}/{layer}.tfstate" for layer in read}
    text = json.dumps(stack.config.get("resource", {}))
    # Upstream names such as fraud-alerts-dev or fraud-cluster-dev only ever arrive through remote state.
    for literal in (f"fraud-alerts-{config.suffix}", f"fraud-cluster-{config.suffix}", f"fraud-api-{config.suffix}", "targetgroup/"):
        assert literal not in text, literal
