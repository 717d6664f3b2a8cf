"""The observability layer: the dashboard, the alarms and the fraud-path tracing of an environment.

A leaf of the layer DAG: it reads every layer's contract and nothing reads it, so it can be
destroyed and rebuilt while the platform keeps serving. Everything it watches comes from the
contracts (see `_monitored_platform`); no name of another layer is written here.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from constructs import Construct

from components.observability.alarm_topic import AlarmTopic
from components.observability.alarms import AlarmThresholds, PlatformAlarms
from components.observability.dashboard import dashboard_body, platform_widgets
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
from components.observability.tracing import FraudPathTracing, SamplingSettings
from config.settings import EnvironmentConfig
from config.targets import DeploymentTarget
from stacks.base import LayerStack
from stacks.contracts import ComputeContract, DataContract, EdgeContract, NetworkContract
from stacks.layers import Layer


class ObservabilityStack(LayerStack):
    def __init__(
        self,
        scope: Construct,
        *,
        environment: EnvironmentConfig,
        target: DeploymentTarget,
        network: NetworkContract,
        data: DataContract,
        compute: ComputeContract,
        edge: EdgeContract,
    ) -> None:
        super().__init__(scope, layer=Layer.OBSERVABILITY, environment=environment, target=target)
        settings = environment.observability
        context = self.context
        platform = _monitored_platform(network, data, compute, edge)

        topic = AlarmTopic(
            self,
            "alarm-topic",
            name=self.naming.name("alarms"),
            context=context,
            messaging_key_arn=data.messaging_key_arn,
            alarm_name_pattern=f"{self.naming.prefix}-*-{self.naming.suffix}",
            email=settings.alarm_email,
        )
        alarms = PlatformAlarms(
            self,
            "alarms",
            naming=self.naming,
            platform=platform,
            thresholds=AlarmThresholds(
                latency_p99_ms=settings.api_latency_p99_threshold_ms,
                min_healthy_tasks=environment.compute.fraud_api_min_tasks,
                database_connections=settings.aurora_connections_threshold,
                lambda_error_rate_percent=settings.lambda_error_rate_threshold_percent,
                http_5xx_rate_percent=settings.http_5xx_rate_threshold_percent,
            ),
            topic_arn=topic.arn,
        )
        FraudPathTracing(
            self,
            "tracing",
            naming=self.naming,
            gateway=platform.gateway,
            sampling=SamplingSettings(
                fixed_rate=settings.fraud_path_sampling_rate,
                reservoir_per_second=settings.fraud_path_sampling_reservoir_per_second,
            ),
        )
        dashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=self.naming.name("dashboard"),
            dashboard_body=dashboard_body(
                platform_widgets(platform, region=context.region, alarm_arns=[alarm.arn for alarm in alarms.alarms])
            ),
        )

        TerraformOutput(
            self,
            "dashboard_url",
            value=(
                f"https://{context.region}.console.aws.amazon.com/cloudwatch/home?region={context.region}"
                f"#dashboards:name={dashboard.dashboard_name}"
            ),
            description="The environment's CloudWatch dashboard",
        )
        TerraformOutput(self, "alarm_topic_arn", value=topic.arn, description="SNS topic every alarm notifies")


def _monitored_platform(network: NetworkContract, data: DataContract, compute: ComputeContract, edge: EdgeContract) -> MonitoredPlatform:
    """The contracts, translated into what CloudWatch and X-Ray call each monitored resource."""
    return MonitoredPlatform(
        gateway=MonitoredGateway(rest_api_name=edge.rest_api_name, stage_name=edge.stage_name),
        load_balancer=MonitoredLoadBalancer(
            arn_suffix=compute.load_balancer_arn_suffix,
            target_group_arn_suffixes=(compute.target_group_arn_suffixes.blue, compute.target_group_arn_suffixes.green),
        ),
        vpc_link=MonitoredVpcLink(
            arn_suffix=edge.vpc_link_load_balancer_arn_suffix,
            target_group_arn_suffix=edge.vpc_link_target_group_arn_suffix,
        ),
        service=MonitoredService(cluster_name=compute.cluster_name, service_name=compute.service_name),
        database=MonitoredDatabase(cluster_identifier=data.database_cluster_identifier),
        functions=(
            MonitoredFunction(label="transaction-processor", function_name=compute.transaction_processor_function_name),
            MonitoredFunction(label="pattern-analyzer", function_name=compute.pattern_analyzer_function_name),
        ),
        queues=MonitoredQueues(
            alerts_queue_name=compute.alerts_queue_name,
            dead_letter_queue_names=compute.dead_letter_queue_names,
        ),
        firewall=MonitoredFirewall(web_acl_metric_name=edge.web_acl_metric_name, rule_metric_names=edge.web_acl_rule_metric_names),
        nat_gateway_ids=network.nat_gateway_ids,
    )
