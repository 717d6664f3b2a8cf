"""What the observability layer watches, as CloudWatch sees it: the dimension values of each
monitored resource, taken from the upstream contracts and from nowhere else.

The stack builds one `MonitoredPlatform` from the contracts; the dashboard, the alarms and the
tracing rules all read it, so a resource renamed upstream is renamed here by the next plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.compute.load_balancer import BlueGreenPair
from components.compute.log_metrics import LogMetricNames


@dataclass(frozen=True)
class MonitoredGateway:
    """The REST API stage: `ApiName` + `Stage` in AWS/ApiGateway; X-Ray names it `<api>/<stage>`."""

    rest_api_name: str
    stage_name: str

    @property
    def dimensions(self) -> dict[str, str]:
        return {"ApiName": self.rest_api_name, "Stage": self.stage_name}

    @property
    def xray_service_name(self) -> str:
        return f"{self.rest_api_name}/{self.stage_name}"


@dataclass(frozen=True)
class MonitoredLoadBalancer:
    """The internal ALB (`app/<name>/<id>`) and its blue/green target groups (`targetgroup/...`)."""

    arn_suffix: str
    # Either may be the live one after a CodeDeploy swap; watch both.
    target_group_arn_suffixes: BlueGreenPair

    @property
    def dimensions(self) -> dict[str, str]:
        return {"LoadBalancer": self.arn_suffix}

    def target_group_dimensions(self, target_group_arn_suffix: str) -> dict[str, str]:
        return {"TargetGroup": target_group_arn_suffix, "LoadBalancer": self.arn_suffix}


@dataclass(frozen=True)
class MonitoredVpcLink:
    """The edge NLB that carries API Gateway's private integration to the ALB."""

    arn_suffix: str
    target_group_arn_suffix: str

    @property
    def target_group_dimensions(self) -> dict[str, str]:
        return {"TargetGroup": self.target_group_arn_suffix, "LoadBalancer": self.arn_suffix}


@dataclass(frozen=True)
class MonitoredService:
    cluster_name: str
    service_name: str

    @property
    def dimensions(self) -> dict[str, str]:
        return {"ClusterName": self.cluster_name, "ServiceName": self.service_name}


@dataclass(frozen=True)
class MonitoredDatabase:
    cluster_identifier: str

    @property
    def dimensions(self) -> dict[str, str]:
        return {"DBClusterIdentifier": self.cluster_identifier}


@dataclass(frozen=True)
class MonitoredFunction:
    # A literal role name (`transaction-processor`): alarm names, labels and logical ids carry it,
    # because the function's own name is only known to Terraform.
    label: str
    function_name: str

    @property
    def dimensions(self) -> dict[str, str]:
        return {"FunctionName": self.function_name}


@dataclass(frozen=True)
class MonitoredQueues:
    alerts_queue_name: str
    # Every dead-letter queue upstream declares; each must stay empty.
    dead_letter_queue_names: tuple[str, ...]


@dataclass(frozen=True)
class MonitoredFirewall:
    """The regional web ACL: `WebACL` + `Region` + `Rule` in AWS/WAFV2 (`Rule=ALL` for totals)."""

    # The ACL's `visibility_config.metric_name`: WAF names the `WebACL` dimension with it (the
    # edge layer keeps it equal to the ACL's name).
    web_acl_metric_name: str
    # Each rule's `visibility_config.metric_name`: the `Rule` dimension of that rule's metrics.
    rule_metric_names: tuple[str, ...]

    def dimensions(self, region: str, rule: str = "ALL") -> dict[str, str]:
        return {"WebACL": self.web_acl_metric_name, "Region": region, "Rule": rule}


@dataclass(frozen=True)
class MonitoredPlatform:
    gateway: MonitoredGateway
    load_balancer: MonitoredLoadBalancer
    vpc_link: MonitoredVpcLink
    service: MonitoredService
    # Counted from fraud-api's log lines by the compute layer's metric filters.
    service_logs: LogMetricNames
    database: MonitoredDatabase
    functions: tuple[MonitoredFunction, ...]
    queues: MonitoredQueues
    firewall: MonitoredFirewall
    nat_gateway_ids: tuple[str, ...]
