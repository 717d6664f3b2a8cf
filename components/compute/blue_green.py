"""CodeDeploy blue/green for the fraud-api service, with rollback on the alarms defined here.

With the CODE_DEPLOY controller ECS has no deployment circuit breaker; CodeDeploy's automatic
rollback (on a failed deployment, and on any of these alarms firing while it runs) is the
equivalent. The alarms live in this layer because observability is downstream of compute and
cannot feed a compute resource.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.codedeploy_app import CodedeployApp
from cdktf_cdktf_provider_aws.codedeploy_deployment_group import (
    CodedeployDeploymentGroup,
    CodedeployDeploymentGroupAlarmConfiguration,
    CodedeployDeploymentGroupAutoRollbackConfiguration,
    CodedeployDeploymentGroupBlueGreenDeploymentConfig,
    CodedeployDeploymentGroupBlueGreenDeploymentConfigDeploymentReadyOption,
    CodedeployDeploymentGroupBlueGreenDeploymentConfigTerminateBlueInstancesOnDeploymentSuccess,
    CodedeployDeploymentGroupDeploymentStyle,
    CodedeployDeploymentGroupEcsService,
    CodedeployDeploymentGroupLoadBalancerInfo,
    CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfo,
    CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoProdTrafficRoute,
    CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoTargetGroup,
    CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoTestTrafficRoute,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
from constructs import Construct

from components.aws_context import AwsContext
from components.naming import IAM_ROLE_NAME_LIMIT, ResourceNamer
from components.security.service_role import ServiceRole
from config.settings import ComputeSettings

ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")


class BlueGreenDeployment(Construct):
    """The traffic shift, the old task set's grace period and the rollback alarms' thresholds
    come from the compute settings (`deployment_config_name`, `blue_green_termination_wait_minutes`,
    `rollback_*`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        context: AwsContext,
        cluster_name: str,
        service_name: str,
        load_balancer_arn_suffix: str,
        production_listener_arn: str,
        test_listener_arn: str,
        blue: LbTargetGroup,
        green: LbTargetGroup,
        settings: ComputeSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms = [
            alarm
            for colour, group in (("blue", blue), ("green", green))
            for alarm in self._alarms(naming, colour, group, load_balancer_arn_suffix, settings)
        ]
        # AWSCodeDeployRoleForECS is AWS's own least-privilege policy for this role: exactly the
        # ECS task-set, ELB listener/rule, CloudWatch alarm, SNS and Lambda-hook calls an ECS
        # blue/green deployment makes (and iam:PassRole only to ECS tasks roles).
        # CodeDeploy does not document aws:SourceAccount/SourceArn for assuming its role.
        self.role = ServiceRole(
            self,
            "role",
            name=naming.name("codedeploy", max_length=IAM_ROLE_NAME_LIMIT),
            description="CodeDeploy blue/green deployments of fraud-api",
            service_principal="codedeploy.amazonaws.com",
            trust=None,
            managed_policy_arns=[f"arn:{context.partition}:iam::aws:policy/AWSCodeDeployRoleForECS"],
        )
        self.application = CodedeployApp(self, "application", name=naming.name("api"), compute_platform="ECS")
        self.deployment_group = CodedeployDeploymentGroup(
            self,
            "deployment-group",
            app_name=self.application.name,
            deployment_group_name=naming.name("api"),
            service_role_arn=self.role.arn,
            deployment_config_name=settings.deployment_config_name,
            deployment_style=CodedeployDeploymentGroupDeploymentStyle(
                deployment_option="WITH_TRAFFIC_CONTROL", deployment_type="BLUE_GREEN"
            ),
            blue_green_deployment_config=CodedeployDeploymentGroupBlueGreenDeploymentConfig(
                # Shift as soon as the replacement is healthy; the alarms guard the shift.
                deployment_ready_option=CodedeployDeploymentGroupBlueGreenDeploymentConfigDeploymentReadyOption(
                    action_on_timeout="CONTINUE_DEPLOYMENT"
                ),
                # The old task set stays this long after the shift: a rollback inside it is
                # instant (traffic moves back, no tasks to start).
                terminate_blue_instances_on_deployment_success=CodedeployDeploymentGroupBlueGreenDeploymentConfigTerminateBlueInstancesOnDeploymentSuccess(
                    action="TERMINATE", termination_wait_time_in_minutes=settings.blue_green_termination_wait_minutes
                ),
            ),
            auto_rollback_configuration=CodedeployDeploymentGroupAutoRollbackConfiguration(
                enabled=True, events=list(ROLLBACK_EVENTS)
            ),
            alarm_configuration=CodedeployDeploymentGroupAlarmConfiguration(
                enabled=True, alarms=[alarm.alarm_name for alarm in self.alarms], ignore_poll_alarm_failure=False
            ),
            ecs_service=CodedeployDeploymentGroupEcsService(cluster_name=cluster_name, service_name=service_name),
            load_balancer_info=CodedeployDeploymentGroupLoadBalancerInfo(
                target_group_pair_info=CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfo(
                    prod_traffic_route=CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoProdTrafficRoute(
                        listener_arns=[production_listener_arn]
                    ),
                    test_traffic_route=CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoTestTrafficRoute(
                        listener_arns=[test_listener_arn]
                    ),
                    target_group=[
                        CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoTargetGroup(name=blue.name),
                        CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoTargetGroup(name=green.name),
                    ],
                )
            ),
        )

    def _alarms(
        self, naming: ResourceNamer, colour: str, group: LbTargetGroup, load_balancer_arn_suffix: str, settings: ComputeSettings
    ) -> list[CloudwatchMetricAlarm]:
        dimensions = {"LoadBalancer": load_balancer_arn_suffix, "TargetGroup": group.arn_suffix}
        return [
            CloudwatchMetricAlarm(
                self,
                f"{colour}-5xx",
                alarm_name=naming.name("api", colour, "5xx"),
                alarm_description=f"fraud-api tasks behind the {colour} target group answer 5xx; stops and rolls back a deployment",
                namespace="AWS/ApplicationELB",
                metric_name="HTTPCode_Target_5XX_Count",
                dimensions=dimensions,
                statistic="Sum",
                period=60,
                evaluation_periods=1,
                # 5xx answers from the tasks of one target group within one minute.
                threshold=settings.rollback_target_5xx_per_minute,
                comparison_operator="GreaterThanOrEqualToThreshold",
                # The idle colour has no traffic and so no data; that is healthy, not unknown.
                treat_missing_data="notBreaching",
            ),
            CloudwatchMetricAlarm(
                self,
                f"{colour}-unhealthy",
                alarm_name=naming.name("api", colour, "unhealthy"),
                alarm_description=f"a {colour} target fails the /health check; stops and rolls back a deployment",
                namespace="AWS/ApplicationELB",
                metric_name="UnHealthyHostCount",
                dimensions=dimensions,
                statistic="Maximum",
                period=60,
                # Minutes in a row with at least one unhealthy target.
                evaluation_periods=settings.rollback_unhealthy_minutes,
                threshold=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
            ),
        ]
