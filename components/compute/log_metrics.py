"""Metrics counted from fraud-api's own log lines, for two failures only its log shows.

- A refresh of the API-config secret that fails: the task keeps serving with the last good
  configuration and retries, so nothing else notices until the signing key it still uses expires
  from consumers' trust (services/fraud_api/README.md, "Response signing and rotation").
- A task that refuses to serve (exit 3 at start: a schema older than its build, a login that
  could change the schema): ECS replaces it, and the service may look merely short of tasks.

The service logs one JSON object per line (services/fraud_api/logs.py); each filter matches the
line's `message` exactly. The observability layer alarms on the metrics (docs/observability.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
)
from constructs import Construct


@dataclass(frozen=True)
class LogSignal:
    metric_name: str
    # The exact `message` of the log line, as services/fraud_api logs it.
    message: str

    @property
    def filter_pattern(self) -> str:
        return f'{{ $.message = "{self.message}" }}'


API_CONFIG_REFRESH_FAILED = LogSignal("ApiConfigRefreshFailures", "API config refresh failed; keeping the last good one")
REFUSED_TO_SERVE = LogSignal("RefusalsToServe", "refusing to serve")


@dataclass(frozen=True)
class LogMetricNames:
    """Where the signals are counted: one namespace of their own, no dimensions."""

    namespace: str
    api_config_refresh_failures: str
    refusals_to_serve: str


class ServiceLogMetrics(Construct):
    """One metric filter per signal on the service's log group, counting into `namespace` (no dimensions)."""

    def __init__(self, scope: Construct, construct_id: str, *, namespace: str, log_group_name: str) -> None:
        super().__init__(scope, construct_id)
        self.namespace = namespace
        self.filters = {
            signal: CloudwatchLogMetricFilter(
                self,
                signal.metric_name,
                name=f"{namespace}-{signal.metric_name}",
                log_group_name=log_group_name,
                pattern=signal.filter_pattern,
                metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                    name=signal.metric_name,
                    namespace=namespace,
                    value="1",
                    # Zero for the lines that do not match: a quiet service reads 0, not "no data".
                    default_value="0",
                    unit="Count",
                ),
            )
            for signal in (API_CONFIG_REFRESH_FAILED, REFUSED_TO_SERVE)
        }

    @property
    def names(self) -> LogMetricNames:
        """The names as the filters publish them: read by reference, so a reader in another layer
        gets them through remote state and only once the filters exist."""
        refusals = self.filters[REFUSED_TO_SERVE].metric_transformation
        return LogMetricNames(
            namespace=refusals.namespace,
            api_config_refresh_failures=self.filters[API_CONFIG_REFRESH_FAILED].metric_transformation.name,
            refusals_to_serve=refusals.name,
        )
