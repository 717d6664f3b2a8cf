"""X-Ray for the fraud paths: sampling rules that trace more of them than X-Ray's default, and a
group that gathers their traces (with X-Ray Insights on it).

Sampling rules and groups are account-wide per region, and every environment may share one
account, so each rule and the group match only this environment's API Gateway stage, by its
X-Ray service name `<rest api name>/<stage>`. The gateway is where sampling is decided: it is the
only way in, it applies these rules, and it passes its decision downstream in the trace header,
which the Lambda functions and fraud-api honour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.xray_group import XrayGroup, XrayGroupInsightsConfiguration
from cdktf_cdktf_provider_aws.xray_sampling_rule import XraySamplingRule
from constructs import Construct

from components.naming import ResourceNamer
from components.observability.sources import MonitoredGateway
from config.settings import ObservabilitySettings

# X-Ray's limit on sampling rule and group names.
XRAY_NAME_LIMIT = 32
GATEWAY_SERVICE_TYPE = "AWS::ApiGateway::Stage"
# Evaluated before X-Ray's default rule (10000); lower wins.
FIRST_RULE_PRIORITY = 100


@dataclass(frozen=True)
class FraudPath:
    label: str
    http_method: str
    # The resource path; rules match it after any stage prefix (`/dev/transactions` on the
    # execute-api URL, `/transactions` on the custom domain).
    path: str


# The two ways a transaction is scored: the pipeline's ingestion and fraud-api's scoring call.
FRAUD_PATHS = (
    FraudPath("transactions", "POST", "/transactions"),
    FraudPath("score", "POST", "/api/v1/score"),
)


def fraud_path_filter(service_name: str, paths: Sequence[FraudPath] = FRAUD_PATHS) -> str:
    """The X-Ray filter expression of traces through `service_name` on any of `paths`."""
    requests = " OR ".join(f'(http.method = "{path.http_method}" AND http.url CONTAINS "{path.path}")' for path in paths)
    return f'service("{service_name}") AND ({requests})'


class FraudPathTracing(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        gateway: MonitoredGateway,
        settings: ObservabilitySettings,
        paths: Sequence[FraudPath] = FRAUD_PATHS,
    ) -> None:
        super().__init__(scope, construct_id)
        self.sampling_rules = [
            XraySamplingRule(
                self,
                f"sampling-{path.label}",
                rule_name=naming.name("trace", path.label, max_length=XRAY_NAME_LIMIT),
                priority=FIRST_RULE_PRIORITY + index,
                version=1,
                fixed_rate=settings.fraud_path_sampling_rate,
                reservoir_size=settings.fraud_path_sampling_reservoir_per_second,
                service_name=gateway.xray_service_name,
                service_type=GATEWAY_SERVICE_TYPE,
                http_method=path.http_method,
                url_path=f"*{path.path}",
                host="*",
                resource_arn="*",
            )
            for index, path in enumerate(paths)
        ]
        self.group = XrayGroup(
            self,
            "group",
            group_name=naming.name("paths", max_length=XRAY_NAME_LIMIT),
            filter_expression=fraud_path_filter(gateway.xray_service_name, paths),
            # Insights watches the group's fault rate and response times and opens an insight on
            # an anomaly; its notifications stay off (the alarms above are the pager).
            insights_configuration=XrayGroupInsightsConfiguration(insights_enabled=True, notifications_enabled=False),
        )
