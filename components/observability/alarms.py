"""The environment's alarms: one small function per kind of alarm, and `PlatformAlarms`, which
puts one of each kind on every monitored resource.

Every alarm notifies the alarm topic when it fires and when it recovers. Rates are computed with
metric math (errors / requests * 100, guarded by `IF(requests > 0, ...)`) rather than alarming on
raw counts, so the same threshold holds at 10 and at 10,000 requests a minute.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from constructs import Construct

from components.naming import ResourceNamer
from components.observability.sources import (
    MonitoredDatabase,
    MonitoredFunction,
    MonitoredGateway,
    MonitoredLoadBalancer,
    MonitoredPlatform,
    MonitoredServiceLogs,
)
from config.settings import ObservabilitySettings

# Latency: p99 over each minute, alarming when 3 of the last 5 minutes miss the objective. One
# slow minute (a cold start, a deployment) is noise; three in five is what clients feel.
LATENCY_PERIOD_SECONDS = 60
LATENCY_EVALUATION_PERIODS = 5
LATENCY_DATAPOINTS_TO_ALARM = 3
# Healthy tasks: three consecutive minutes below the floor. A single task being replaced dips
# the count for about a minute; three minutes is an outage in the making.
HEALTH_PERIOD_SECONDS = 60
HEALTH_EVALUATION_PERIODS = 3
# Connections: five consecutive minutes above the threshold (a deploy briefly doubles the pools).
DATABASE_PERIOD_SECONDS = 60
DATABASE_EVALUATION_PERIODS = 5
# Error rates: one 5-minute window, "1 % over 5 minutes" (docs/requirements.md R6.6).
RATE_PERIOD_SECONDS = 300
RATE_EVALUATION_PERIODS = 1
# Dead letters: any message at all, within 5 minutes of it arriving.
DEAD_LETTER_PERIOD_SECONDS = 300
DEAD_LETTER_EVALUATION_PERIODS = 1
# fraud-api refusing to serve: any refusal, within the minute (a misconfiguration or a schema
# behind the build; every replacement task will refuse too).
REFUSAL_PERIOD_SECONDS = 60
REFUSAL_EVALUATION_PERIODS = 1
# API-config refreshes: failing through two 5-minute windows. The task retries every 15 s and
# keeps its last good key, so one failed refresh is noise; ten minutes of them is an outage of
# Secrets Manager (or of its endpoint) that a rotation would turn into unverifiable signatures.
REFRESH_PERIOD_SECONDS = 300
REFRESH_EVALUATION_PERIODS = 2


class MissingData(str, Enum):
    """What a period without data means for an alarm (chosen per alarm, with the reason there)."""

    NOT_BREACHING = "notBreaching"
    BREACHING = "breaching"
    MISSING = "missing"


@dataclass(frozen=True)
class MetricRef:
    namespace: str
    name: str
    dimensions: Mapping[str, str]
    stat: str = "Sum"


def _alarm(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    description: str,
    topic_arn: str,
    comparison: str,
    threshold: float,
    evaluation_periods: int,
    missing_data: MissingData,
    datapoints_to_alarm: int | None = None,
    **metric: object,
) -> CloudwatchMetricAlarm:
    return CloudwatchMetricAlarm(
        scope,
        construct_id,
        alarm_name=name,
        alarm_description=description,
        comparison_operator=comparison,
        threshold=threshold,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=datapoints_to_alarm,
        treat_missing_data=missing_data.value,
        actions_enabled=True,
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        **metric,
    )


def latency_p99_alarm(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    description: str,
    metric: MetricRef,
    threshold: float,
    topic_arn: str,
) -> CloudwatchMetricAlarm:
    # No requests means no latency to miss: quiet environments stay OK.
    return _alarm(
        scope,
        construct_id,
        name=name,
        description=description,
        topic_arn=topic_arn,
        comparison="GreaterThanThreshold",
        threshold=threshold,
        evaluation_periods=LATENCY_EVALUATION_PERIODS,
        datapoints_to_alarm=LATENCY_DATAPOINTS_TO_ALARM,
        missing_data=MissingData.NOT_BREACHING,
        namespace=metric.namespace,
        metric_name=metric.name,
        dimensions=dict(metric.dimensions),
        extended_statistic="p99",
        period=LATENCY_PERIOD_SECONDS,
    )


def _query(query_id: str, metric: MetricRef, period: int) -> CloudwatchMetricAlarmMetricQuery:
    return CloudwatchMetricAlarmMetricQuery(
        id=query_id,
        return_data=False,
        metric=CloudwatchMetricAlarmMetricQueryMetric(
            namespace=metric.namespace,
            metric_name=metric.name,
            dimensions=dict(metric.dimensions),
            stat=metric.stat,
            period=period,
        ),
    )


def percentage_alarm(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    description: str,
    failures: MetricRef,
    total: MetricRef,
    threshold_percent: float,
    topic_arn: str,
    query_ids: tuple[str, str] = ("errors", "requests"),
    fill_missing_failures: bool = False,
) -> CloudwatchMetricAlarm:
    """`failures / total * 100` over 5 minutes, 0 when there was no traffic at all.

    `query_ids` name the two metrics in the expression; `fill_missing_failures` is for metrics
    published only when non-zero (the ALB's HTTPCode_* counts).
    """
    failures_id, total_id = query_ids
    failures_term = f"FILL({failures_id}, 0)" if fill_missing_failures else failures_id
    # No traffic is not an error rate: windows without invocations or requests count as OK.
    return _alarm(
        scope,
        construct_id,
        name=name,
        description=description,
        topic_arn=topic_arn,
        comparison="GreaterThanThreshold",
        threshold=threshold_percent,
        evaluation_periods=RATE_EVALUATION_PERIODS,
        missing_data=MissingData.NOT_BREACHING,
        metric_query=[
            CloudwatchMetricAlarmMetricQuery(
                id="rate",
                expression=f"IF({total_id} > 0, {failures_term} / {total_id} * 100, 0)",
                label=f"{failures_id} per 100 {total_id}",
                return_data=True,
            ),
            _query(failures_id, failures, RATE_PERIOD_SECONDS),
            _query(total_id, total, RATE_PERIOD_SECONDS),
        ],
    )


def healthy_targets_alarm(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    description: str,
    load_balancer: MonitoredLoadBalancer,
    minimum: int,
    topic_arn: str,
) -> CloudwatchMetricAlarm:
    """Healthy fraud-api tasks as the ALB sees them, in whichever target group is live.

    CodeDeploy moves production between the blue and green groups, and after a swap the old group
    keeps its tasks for the termination wait. MAX over both groups is the live group's count (the
    idle group has none, or the old set while it drains); SUM would count draining tasks as
    capacity and hide a failing live set for up to the termination wait.
    """
    queries = [
        _query(
            f"group_{index}",
            MetricRef("AWS/ApplicationELB", "HealthyHostCount", load_balancer.target_group_dimensions(group), stat="Minimum"),
            HEALTH_PERIOD_SECONDS,
        )
        for index, group in enumerate(load_balancer.target_group_arn_suffixes)
    ]
    ids = ", ".join(query.id for query in queries)
    # No data from either group means neither has a registered, reporting target: as bad as zero.
    return _alarm(
        scope,
        construct_id,
        name=name,
        description=description,
        topic_arn=topic_arn,
        comparison="LessThanThreshold",
        threshold=minimum,
        evaluation_periods=HEALTH_EVALUATION_PERIODS,
        missing_data=MissingData.BREACHING,
        metric_query=[
            CloudwatchMetricAlarmMetricQuery(id="healthy", expression=f"MAX([{ids}])", label="healthy tasks (live group)", return_data=True),
            *queries,
        ],
    )


def database_connections_alarm(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    description: str,
    database: MonitoredDatabase,
    threshold: int,
    topic_arn: str,
) -> CloudwatchMetricAlarm:
    # Aurora reports connections every minute while it runs (0 included); no data means the
    # cluster or its metrics are gone, which this alarm cannot judge: INSUFFICIENT_DATA says so.
    return _alarm(
        scope,
        construct_id,
        name=name,
        description=description,
        topic_arn=topic_arn,
        comparison="GreaterThanThreshold",
        threshold=threshold,
        evaluation_periods=DATABASE_EVALUATION_PERIODS,
        missing_data=MissingData.MISSING,
        namespace="AWS/RDS",
        metric_name="DatabaseConnections",
        dimensions=dict(database.dimensions),
        statistic="Maximum",
        period=DATABASE_PERIOD_SECONDS,
    )


def log_signal_alarm(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    description: str,
    namespace: str,
    metric_name: str,
    period: int,
    evaluation_periods: int,
    topic_arn: str,
) -> CloudwatchMetricAlarm:
    """Any count of a log-derived metric in each of `evaluation_periods` periods; no lines at all
    (no task running) says nothing about the signal."""
    return _alarm(
        scope,
        construct_id,
        name=name,
        description=description,
        topic_arn=topic_arn,
        comparison="GreaterThanThreshold",
        threshold=0,
        evaluation_periods=evaluation_periods,
        missing_data=MissingData.NOT_BREACHING,
        namespace=namespace,
        metric_name=metric_name,
        statistic="Sum",
        period=period,
    )


def dead_letter_alarm(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    queue_name: str,
    topic_arn: str,
) -> CloudwatchMetricAlarm:
    # SQS keeps publishing for a queue that holds messages; it stops only for an empty, idle
    # queue, which is exactly the healthy state.
    return _alarm(
        scope,
        construct_id,
        name=name,
        description=f"Dead-letter queue {queue_name} holds messages: a failure was parked there; inspect and redrive",
        topic_arn=topic_arn,
        comparison="GreaterThanThreshold",
        threshold=0,
        evaluation_periods=DEAD_LETTER_EVALUATION_PERIODS,
        missing_data=MissingData.NOT_BREACHING,
        namespace="AWS/SQS",
        metric_name="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": queue_name},
        statistic="Maximum",
        period=DEAD_LETTER_PERIOD_SECONDS,
    )


class PlatformAlarms(Construct):
    """Every alarm of the environment; `alarms` lists them for the dashboard's status widget.

    Thresholds come from the observability settings; `min_healthy_tasks` is the fewest fraud-api
    tasks the environment runs (autoscaling's floor).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        platform: MonitoredPlatform,
        settings: ObservabilitySettings,
        min_healthy_tasks: int,
        topic_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        notify = {"topic_arn": topic_arn}
        self.alarms = [
            *self._latency(naming, platform.gateway, platform.load_balancer, settings.api_latency_p99_threshold_ms, notify),
            *self._server_errors(naming, platform.gateway, platform.load_balancer, settings.http_5xx_rate_threshold_percent, notify),
            healthy_targets_alarm(
                self,
                "ecs-healthy-tasks",
                name=naming.name("ecs-healthy-tasks"),
                description=f"Fewer than {min_healthy_tasks} healthy fraud-api tasks in the live target group",
                load_balancer=platform.load_balancer,
                minimum=min_healthy_tasks,
                **notify,
            ),
            database_connections_alarm(
                self,
                "aurora-connections",
                name=naming.name("aurora-connections"),
                description=f"More than {settings.aurora_connections_threshold} connections to the Aurora cluster",
                database=platform.database,
                threshold=settings.aurora_connections_threshold,
                **notify,
            ),
            *self._service_log_signals(naming, platform.service_logs, notify),
            *(self._function_errors(naming, function, settings.lambda_error_rate_threshold_percent, notify) for function in platform.functions),
            *(
                # Numbered, not named: the queue names are only known to Terraform. The
                # description names the queue.
                dead_letter_alarm(self, f"dead-letters-{number}", name=naming.name("dlq-not-empty", str(number)), queue_name=queue, **notify)
                for number, queue in enumerate(platform.queues.dead_letter_queue_names, start=1)
            ),
        ]

    def _latency(
        self, naming: ResourceNamer, gateway: MonitoredGateway, load_balancer: MonitoredLoadBalancer, threshold_ms: float, notify: dict[str, str]
    ) -> list[CloudwatchMetricAlarm]:
        return [
            latency_p99_alarm(
                self,
                "gateway-latency-p99",
                name=naming.name("gateway-latency-p99"),
                description=f"API Gateway p99 latency above {threshold_ms:g} ms (what clients see, integration included)",
                metric=MetricRef("AWS/ApiGateway", "Latency", gateway.dimensions),
                threshold=threshold_ms,
                **notify,
            ),
            # TargetResponseTime is in seconds.
            latency_p99_alarm(
                self,
                "alb-latency-p99",
                name=naming.name("alb-latency-p99"),
                description=f"fraud-api p99 response time at the ALB above {threshold_ms:g} ms",
                metric=MetricRef("AWS/ApplicationELB", "TargetResponseTime", load_balancer.dimensions),
                threshold=threshold_ms / 1000,
                **notify,
            ),
        ]

    def _server_errors(
        self, naming: ResourceNamer, gateway: MonitoredGateway, load_balancer: MonitoredLoadBalancer, threshold: float, notify: dict[str, str]
    ) -> list[CloudwatchMetricAlarm]:
        return [
            percentage_alarm(
                self,
                "gateway-5xx-rate",
                name=naming.name("gateway-5xx-rate"),
                description=f"More than {threshold:g} % of API Gateway requests answered 5XX over 5 minutes",
                failures=MetricRef("AWS/ApiGateway", "5XXError", gateway.dimensions),
                total=MetricRef("AWS/ApiGateway", "Count", gateway.dimensions),
                threshold_percent=threshold,
                **notify,
            ),
            percentage_alarm(
                self,
                "alb-5xx-rate",
                name=naming.name("alb-5xx-rate"),
                description=f"More than {threshold:g} % of fraud-api requests answered 5XX by its tasks over 5 minutes",
                failures=MetricRef("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", load_balancer.dimensions),
                total=MetricRef("AWS/ApplicationELB", "RequestCount", load_balancer.dimensions),
                threshold_percent=threshold,
                fill_missing_failures=True,
                **notify,
            ),
        ]

    def _service_log_signals(self, naming: ResourceNamer, logs: MonitoredServiceLogs, notify: dict[str, str]) -> list[CloudwatchMetricAlarm]:
        signals = (
            (
                "api-refused-to-serve",
                "A fraud-api task refused to serve at start (exit 3): its schema is older than its build, or its login could change "
                "the schema. Read 'refusing to serve' in its log; run the schema migration (lifecycle migrate)",
                logs.refusals_to_serve,
                REFUSAL_PERIOD_SECONDS,
                REFUSAL_EVALUATION_PERIODS,
            ),
            (
                "api-config-refresh-failing",
                "fraud-api has failed to refresh its API-config secret for 10 minutes and signs with its last good key: check "
                "Secrets Manager (and its VPC endpoint) before the next rotation",
                logs.api_config_refresh_failures,
                REFRESH_PERIOD_SECONDS,
                REFRESH_EVALUATION_PERIODS,
            ),
        )
        return [
            log_signal_alarm(
                self,
                role,
                name=naming.name(role),
                description=description,
                namespace=logs.namespace,
                metric_name=metric_name,
                period=period,
                evaluation_periods=evaluation_periods,
                **notify,
            )
            for role, description, metric_name, period, evaluation_periods in signals
        ]

    def _function_errors(
        self, naming: ResourceNamer, function: MonitoredFunction, threshold: float, notify: dict[str, str]
    ) -> CloudwatchMetricAlarm:
        return percentage_alarm(
            self,
            f"{function.label}-error-rate",
            name=naming.name(function.label, "error-rate"),
            description=f"More than {threshold:g} % of {function.label} invocations failed over 5 minutes",
            failures=MetricRef("AWS/Lambda", "Errors", function.dimensions),
            total=MetricRef("AWS/Lambda", "Invocations", function.dimensions),
            threshold_percent=threshold,
            query_ids=("errors", "invocations"),
            **notify,
        )
