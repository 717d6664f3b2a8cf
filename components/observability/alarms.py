"""The environment's alarms: one small function per kind of alarm, each saying what it watches and
when it fires (an `AlarmRule`), and `PlatformAlarms`, which names one of each kind for every
monitored resource and points them all at the alarm topic.

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
from components.observability.sources import MonitoredDatabase, MonitoredLoadBalancer, MonitoredPlatform
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


@dataclass(frozen=True)
class AlarmRule:
    """What an alarm watches and when it fires; its name, description and topic are the caller's."""

    comparison: str
    threshold: float
    evaluation_periods: int
    missing_data: MissingData
    # Either a single metric (namespace, metric_name, dimensions, statistic, period) or metric math
    # (metric_query), as CloudwatchMetricAlarm takes them.
    metric: Mapping[str, object]
    datapoints_to_alarm: int | None = None


def latency_p99(metric: MetricRef, threshold: float) -> AlarmRule:
    # No requests means no latency to miss: quiet environments stay OK.
    return AlarmRule(
        comparison="GreaterThanThreshold",
        threshold=threshold,
        evaluation_periods=LATENCY_EVALUATION_PERIODS,
        datapoints_to_alarm=LATENCY_DATAPOINTS_TO_ALARM,
        missing_data=MissingData.NOT_BREACHING,
        metric={
            "namespace": metric.namespace,
            "metric_name": metric.name,
            "dimensions": dict(metric.dimensions),
            "extended_statistic": "p99",
            "period": LATENCY_PERIOD_SECONDS,
        },
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


def percentage(
    failures: MetricRef,
    total: MetricRef,
    threshold_percent: float,
    *,
    query_ids: tuple[str, str] = ("errors", "requests"),
    fill_missing_failures: bool = False,
) -> AlarmRule:
    """`failures / total * 100` over 5 minutes, 0 when there was no traffic at all.

    `query_ids` name the two metrics in the expression; `fill_missing_failures` is for metrics
    published only when non-zero (the ALB's HTTPCode_* counts).
    """
    failures_id, total_id = query_ids
    failures_term = f"FILL({failures_id}, 0)" if fill_missing_failures else failures_id
    # No traffic is not an error rate: windows without invocations or requests count as OK.
    return AlarmRule(
        comparison="GreaterThanThreshold",
        threshold=threshold_percent,
        evaluation_periods=RATE_EVALUATION_PERIODS,
        missing_data=MissingData.NOT_BREACHING,
        metric={
            "metric_query": [
                CloudwatchMetricAlarmMetricQuery(
                    id="rate",
                    expression=f"IF({total_id} > 0, {failures_term} / {total_id} * 100, 0)",
                    label=f"{failures_id} per 100 {total_id}",
                    return_data=True,
                ),
                _query(failures_id, failures, RATE_PERIOD_SECONDS),
                _query(total_id, total, RATE_PERIOD_SECONDS),
            ]
        },
    )


def healthy_targets(load_balancer: MonitoredLoadBalancer, minimum: int) -> AlarmRule:
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
        for index, group in enumerate(load_balancer.target_group_arn_suffixes.by_colour().values())
    ]
    ids = ", ".join(query.id for query in queries)
    # No data from either group means neither has a registered, reporting target: as bad as zero.
    return AlarmRule(
        comparison="LessThanThreshold",
        threshold=minimum,
        evaluation_periods=HEALTH_EVALUATION_PERIODS,
        missing_data=MissingData.BREACHING,
        metric={
            "metric_query": [
                CloudwatchMetricAlarmMetricQuery(id="healthy", expression=f"MAX([{ids}])", label="healthy tasks (live group)", return_data=True),
                *queries,
            ]
        },
    )


def database_connections(database: MonitoredDatabase, threshold: int) -> AlarmRule:
    # Aurora reports connections every minute while it runs (0 included); no data means the
    # cluster or its metrics are gone, which this alarm cannot judge: INSUFFICIENT_DATA says so.
    return AlarmRule(
        comparison="GreaterThanThreshold",
        threshold=threshold,
        evaluation_periods=DATABASE_EVALUATION_PERIODS,
        missing_data=MissingData.MISSING,
        metric={
            "namespace": "AWS/RDS",
            "metric_name": "DatabaseConnections",
            "dimensions": dict(database.dimensions),
            "statistic": "Maximum",
            "period": DATABASE_PERIOD_SECONDS,
        },
    )


def log_signal(namespace: str, metric_name: str, period: int, evaluation_periods: int) -> AlarmRule:
    """Any count of a log-derived metric in each of `evaluation_periods` periods; no lines at all
    (no task running) says nothing about the signal."""
    return AlarmRule(
        comparison="GreaterThanThreshold",
        threshold=0,
        evaluation_periods=evaluation_periods,
        missing_data=MissingData.NOT_BREACHING,
        metric={"namespace": namespace, "metric_name": metric_name, "statistic": "Sum", "period": period},
    )


def dead_letters(queue_name: str) -> AlarmRule:
    # SQS keeps publishing for a queue that holds messages; it stops only for an empty, idle
    # queue, which is exactly the healthy state.
    return AlarmRule(
        comparison="GreaterThanThreshold",
        threshold=0,
        evaluation_periods=DEAD_LETTER_EVALUATION_PERIODS,
        missing_data=MissingData.NOT_BREACHING,
        metric={
            "namespace": "AWS/SQS",
            "metric_name": "ApproximateNumberOfMessagesVisible",
            "dimensions": {"QueueName": queue_name},
            "statistic": "Maximum",
            "period": DEAD_LETTER_PERIOD_SECONDS,
        },
    )


class PlatformAlarms(Construct):
    """Every alarm of the environment; `alarms` lists them for the dashboard's status widget.

    Thresholds come from the observability settings; `min_healthy_tasks` is the fewest fraud-api
    tasks the environment runs (autoscaling's floor). Every alarm notifies `topic_arn` when it
    fires and when it recovers.
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
        self._naming = naming
        self._topic_arn = topic_arn
        gateway, load_balancer, service_logs = platform.gateway, platform.load_balancer, platform.service_logs
        latency_ms = settings.api_latency_p99_threshold_ms
        server_errors = settings.http_5xx_rate_threshold_percent
        function_errors = settings.lambda_error_rate_threshold_percent
        self.alarms = [
            self._alarm(
                "gateway-latency-p99",
                f"API Gateway p99 latency above {latency_ms:g} ms (what clients see, integration included)",
                latency_p99(MetricRef("AWS/ApiGateway", "Latency", gateway.dimensions), latency_ms),
            ),
            self._alarm(
                "alb-latency-p99",
                f"fraud-api p99 response time at the ALB above {latency_ms:g} ms",
                # TargetResponseTime is in seconds.
                latency_p99(MetricRef("AWS/ApplicationELB", "TargetResponseTime", load_balancer.dimensions), latency_ms / 1000),
            ),
            self._alarm(
                "gateway-5xx-rate",
                f"More than {server_errors:g} % of API Gateway requests answered 5XX over 5 minutes",
                percentage(
                    MetricRef("AWS/ApiGateway", "5XXError", gateway.dimensions),
                    MetricRef("AWS/ApiGateway", "Count", gateway.dimensions),
                    server_errors,
                ),
            ),
            self._alarm(
                "alb-5xx-rate",
                f"More than {server_errors:g} % of fraud-api requests answered 5XX by its tasks over 5 minutes",
                percentage(
                    MetricRef("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", load_balancer.dimensions),
                    MetricRef("AWS/ApplicationELB", "RequestCount", load_balancer.dimensions),
                    server_errors,
                    fill_missing_failures=True,
                ),
            ),
            self._alarm(
                "ecs-healthy-tasks",
                f"Fewer than {min_healthy_tasks} healthy fraud-api tasks in the live target group",
                healthy_targets(load_balancer, min_healthy_tasks),
            ),
            self._alarm(
                "aurora-connections",
                f"More than {settings.aurora_connections_threshold} connections to the Aurora cluster",
                database_connections(platform.database, settings.aurora_connections_threshold),
            ),
            self._alarm(
                "api-refused-to-serve",
                "A fraud-api task refused to serve at start (exit 3): its schema is older than its build, or its login could change "
                "the schema. Read 'refusing to serve' in its log; run the schema migration (lifecycle migrate)",
                log_signal(service_logs.namespace, service_logs.refusals_to_serve, REFUSAL_PERIOD_SECONDS, REFUSAL_EVALUATION_PERIODS),
            ),
            self._alarm(
                "api-config-refresh-failing",
                "fraud-api has failed to refresh its API-config secret for 10 minutes and signs with its last good key: check "
                "Secrets Manager (and its VPC endpoint) before the next rotation",
                log_signal(
                    service_logs.namespace, service_logs.api_config_refresh_failures, REFRESH_PERIOD_SECONDS, REFRESH_EVALUATION_PERIODS
                ),
            ),
            *(
                self._alarm(
                    f"{function.label}-error-rate",
                    f"More than {function_errors:g} % of {function.label} invocations failed over 5 minutes",
                    percentage(
                        MetricRef("AWS/Lambda", "Errors", function.dimensions),
                        MetricRef("AWS/Lambda", "Invocations", function.dimensions),
                        function_errors,
                        query_ids=("errors", "invocations"),
                    ),
                )
                for function in platform.functions
            ),
            *(
                # Numbered, not named: the queue names are only known to Terraform. The
                # description names the queue.
                self._alarm(
                    f"dlq-not-empty-{number}",
                    f"Dead-letter queue {queue} holds messages: a failure was parked there; inspect and redrive",
                    dead_letters(queue),
                    construct_id=f"dead-letters-{number}",
                )
                for number, queue in enumerate(platform.queues.dead_letter_queue_names, start=1)
            ),
        ]

    def _alarm(self, role: str, description: str, rule: AlarmRule, *, construct_id: str | None = None) -> CloudwatchMetricAlarm:
        return CloudwatchMetricAlarm(
            self,
            construct_id or role,
            alarm_name=self._naming.name(role),
            alarm_description=description,
            comparison_operator=rule.comparison,
            threshold=rule.threshold,
            evaluation_periods=rule.evaluation_periods,
            datapoints_to_alarm=rule.datapoints_to_alarm,
            treat_missing_data=rule.missing_data.value,
            actions_enabled=True,
            alarm_actions=[self._topic_arn],
            ok_actions=[self._topic_arn],
            **rule.metric,
        )
