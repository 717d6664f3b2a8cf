"""The observability layer: the dashboard, the alarms and the fraud-path tracing of an environment.

A leaf of the layer DAG: it reads every layer's contract and nothing reads it, so it can be
destroyed and rebuilt while the platform keeps serving. Everything it watches comes from the
contracts (see `_monitored_platform`); no name of another layer is written here.
"""

from __future__ import annotations

from constructs import Construct

from components.observability.alarm_topic import AlarmTopic
from components.observability.alarms import PlatformAlarms
from components.observability.dashboard import PlatformDashboard
from components.observability import sources
from components.observability.tracing import FraudPathTracing
from config.settings import EnvironmentConfig
from config.targets import DeploymentTarget
from stacks.base import LayerStack
from stacks.contracts import ObservabilityUpstream
from stacks.layers import Layer


class ObservabilityStack(LayerStack):
    def __init__(self, scope: Construct, *, environment: EnvironmentConfig, target: DeploymentTarget, upstream: ObservabilityUpstream) -> None:
        super().__init__(scope, layer=Layer.OBSERVABILITY, environment=environment, target=target)
        settings = environment.observability
        context = self.context
        platform = _monitored_platform(upstream)

        topic = AlarmTopic(
            self,
            "alarm-topic",
            name=self.naming.name("alarms"),
            context=context,
            messaging_key_arn=upstream.data.messaging_key_arn,
            alarm_name_pattern=f"{self.naming.prefix}-*-{self.naming.suffix}",
            email=settings.alarm_email,
        )
        alarms = PlatformAlarms(
            self,
            "alarms",
            naming=self.naming,
            platform=platform,
            settings=settings,
            min_healthy_tasks=environment.compute.fraud_api_min_tasks,
            topic_arn=topic.arn,
        )
        FraudPathTracing(self, "tracing", naming=self.naming, gateway=platform.gateway, settings=settings)
        dashboard = PlatformDashboard(
            # "Default" is the one construct id cdktf leaves out of Terraform addresses: the
            # dashboard keeps the address it had before this construct wrapped it.
            self,
            "Default",
            name=self.naming.name("dashboard"),
            platform=platform,
            region=context.region,
            alarm_arns=[alarm.arn for alarm in alarms.alarms],
        )

        self.output("dashboard_url", dashboard.url, "The environment's CloudWatch dashboard")
        self.output("alarm_topic_arn", topic.arn, "SNS topic every alarm notifies")


def _monitored_platform(upstream: ObservabilityUpstream) -> sources.MonitoredPlatform:
    """The contracts, translated into what CloudWatch and X-Ray call each monitored resource."""
    network, data, compute, edge = upstream.network, upstream.data, upstream.compute, upstream.edge
    return sources.MonitoredPlatform(
        gateway=sources.MonitoredGateway(rest_api_name=edge.rest_api_name, stage_name=edge.stage_name),
        load_balancer=sources.MonitoredLoadBalancer(
            arn_suffix=compute.load_balancer_arn_suffix,
            target_group_arn_suffixes=compute.target_group_arn_suffixes,
        ),
        vpc_link=sources.MonitoredVpcLink(
            arn_suffix=edge.vpc_link_load_balancer_arn_suffix,
            target_group_arn_suffix=edge.vpc_link_target_group_arn_suffix,
        ),
        service=sources.MonitoredService(cluster_name=compute.cluster_name, service_name=compute.service_name),
        service_logs=compute.fraud_api_log_metrics,
        database=sources.MonitoredDatabase(cluster_identifier=data.database_cluster_identifier),
        functions=(
            sources.MonitoredFunction(label="transaction-processor", function_name=compute.transaction_processor_function_name),
            sources.MonitoredFunction(label="pattern-analyzer", function_name=compute.pattern_analyzer_function_name),
        ),
        queues=sources.MonitoredQueues(
            alerts_queue_name=compute.alerts_queue_name,
            dead_letter_queue_names=compute.dead_letter_queue_names,
        ),
        firewall=sources.MonitoredFirewall(web_acl_metric_name=edge.web_acl_metric_name, rule_metric_names=edge.web_acl_rule_metric_names),
        nat_gateway_ids=network.nat_gateway_ids,
    )
