"""Task-count scaling of the fraud-api service: CPU and requests per task, plus the daily peak."""

from __future__ import annotations

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecification,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetrics,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStat,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStatMetric,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStatMetricDimensions,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_scheduled_action import (
    AppautoscalingScheduledAction,
    AppautoscalingScheduledActionScalableTargetAction,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from constructs import Construct

from components.naming import ResourceNamer
from config.settings import ComputeSettings, PeakScaling

ECS_DESIRED_COUNT = "ecs:service:DesiredCount"


class ServiceAutoscaling(Construct):
    """Task limits, targets and cooldowns from the compute settings (`fraud_api_*`): scale out
    fast (the latency budget is spent in seconds), scale in slowly (a dip between bursts is not a
    trend, and a task started costs nothing but money)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        cluster_name: str,
        service_name: str,
        load_balancer_arn_suffix: str,
        settings: ComputeSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        self._settings = settings
        self.target = AppautoscalingTarget(
            self,
            "target",
            service_namespace="ecs",
            resource_id=f"service/{cluster_name}/{service_name}",
            scalable_dimension=ECS_DESIRED_COUNT,
            min_capacity=settings.fraud_api_min_tasks,
            max_capacity=settings.fraud_api_max_tasks,
            # The peak schedule rewrites the limits twice a day; re-asserting them would cut a
            # running peak back to the off-peak floor until the next day's start.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["min_capacity", "max_capacity"])
            if settings.fraud_api_peak
            else None,
        )
        # Application Auto Scaling refuses a second concurrent write to one scalable target
        # (ConcurrentUpdateException, which the provider does not retry): every policy and
        # scheduled action waits for the one before it.
        self._last_writer: ITerraformDependable = self.target
        self.cpu_policy = self._policy(
            naming.name("api-cpu"),
            "cpu",
            target_value=settings.fraud_api_cpu_target_percent,
            predefined_metric_specification=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                predefined_metric_type="ECSServiceAverageCPUUtilization"
            ),
        )
        # ALBRequestCountPerTarget, computed for the whole service: the predefined metric is tied
        # to ONE target group, and CodeDeploy moves the live tasks between blue and green on
        # every deployment, which would leave a predefined policy watching an empty group.
        self.requests_policy = self._policy(
            naming.name("api-requests"),
            "requests",
            target_value=settings.fraud_api_requests_per_target,
            customized_metric_specification=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecification(
                metrics=[
                    _metric("requests", "AWS/ApplicationELB", "RequestCount", "Sum", {"LoadBalancer": load_balancer_arn_suffix}),
                    _metric(
                        "tasks",
                        "ECS/ContainerInsights",
                        "RunningTaskCount",
                        "Average",
                        {"ClusterName": cluster_name, "ServiceName": service_name},
                    ),
                    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetrics(
                        id="requests_per_task", expression="requests / tasks", label="Requests per task per minute", return_data=True
                    ),
                ]
            ),
        )
        self.scheduled_actions = self._peak(naming, settings.fraud_api_peak) if settings.fraud_api_peak else []

    def _policy(self, name: str, construct_id: str, *, target_value: int, **metric) -> AppautoscalingPolicy:
        policy = AppautoscalingPolicy(
            self,
            construct_id,
            name=name,
            policy_type="TargetTrackingScaling",
            service_namespace=self.target.service_namespace,
            resource_id=self.target.resource_id,
            scalable_dimension=self.target.scalable_dimension,
            target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                target_value=target_value,
                scale_out_cooldown=self._settings.fraud_api_scale_out_cooldown_seconds,
                scale_in_cooldown=self._settings.fraud_api_scale_in_cooldown_seconds,
                disable_scale_in=False,
                **metric,
            ),
            depends_on=[self._last_writer],
        )
        self._last_writer = policy
        return policy

    def _peak(self, naming: ResourceNamer, peak: PeakScaling) -> list[AppautoscalingScheduledAction]:
        # Raise the floor before the daily peak so capacity is there when traffic arrives
        # (target tracking only reacts after it has), and restore it afterwards.
        actions = []
        for phase, schedule, minimum in (
            ("start", peak.start_schedule, peak.min_tasks),
            ("end", peak.end_schedule, self._settings.fraud_api_min_tasks),
        ):
            action = AppautoscalingScheduledAction(
                self,
                f"peak-{phase}",
                name=naming.name("api-peak", phase),
                service_namespace=self.target.service_namespace,
                resource_id=self.target.resource_id,
                scalable_dimension=self.target.scalable_dimension,
                schedule=schedule,
                timezone=peak.timezone,
                scalable_target_action=AppautoscalingScheduledActionScalableTargetAction(
                    min_capacity=str(minimum), max_capacity=str(self._settings.fraud_api_max_tasks)
                ),
                depends_on=[self._last_writer],
            )
            self._last_writer = action
            actions.append(action)
        return actions


def _metric(metric_id: str, namespace: str, name: str, stat: str, dimensions: dict[str, str]):
    return AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetrics(
        id=metric_id,
        return_data=False,
        metric_stat=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStat(
            stat=stat,
            metric=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStatMetric(
                namespace=namespace,
                metric_name=name,
                dimensions=[
                    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStatMetricDimensions(
                        name=key, value=value
                    )
                    for key, value in dimensions.items()
                ],
            ),
        ),
    )
