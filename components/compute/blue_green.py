"""CodeDeploy blue/green for the fraud-api service, with rollback on the alarms defined here.

With the CODE_DEPLOY controller ECS has no deployment circuit breaker; CodeDeploy's automatic
rollback (on a failed deployment, and on any of these alarms firing while it runs) is the
equivalent. The alarms live in this layer because observability is downstream of compute and
cannot feed a compute resource.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
from cdktf_cdktf_provider_aws.lb_listener_rule import LbListenerRule
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
from constructs import Construct

from components.aws_context import AwsContext
from components.compute.fraud_api_service import ECS_TASKS
from components.naming import IAM_ROLE_NAME_LIMIT, ResourceNamer
from components.security.policy_statements import allow
from components.security.service_role import ServiceRole
from config.settings import ComputeSettings

ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")
# What CodeDeploy does to the service during a blue/green deployment: start the replacement task
# set, make it primary, remove the original.
TASK_SET_ACTIONS = ("ecs:DescribeServices", "ecs:CreateTaskSet", "ecs:UpdateServicePrimaryTaskSet", "ecs:DeleteTaskSet")
# Elastic Load Balancing's Describe calls have no resource-level permissions.
LOAD_BALANCER_DESCRIBE_ACTIONS = (
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules",
)


@dataclass(frozen=True)
class DeployedService:
    """What a deployment may touch: the service, its task roles, and the listeners and rules whose
    forward actions it moves between the two target groups."""

    cluster_name: str
    service_name: str
    # The task definition's execution and task roles: creating a task set passes them to ECS.
    task_role_arns: Sequence[str]
    production_listener_arn: str
    test_listener_arn: str
    # The forwarding rules of both listeners (no listener forwards on its default action).
    listener_rules: Sequence[LbListenerRule]


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
        service: DeployedService,
        load_balancer_arn_suffix: str,
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
        # An inline policy of exactly what a deployment of this service does, on this environment's
        # resources: AWSCodeDeployRoleForECS would also let it invoke any Lambda, read any S3
        # object, publish to any topic and touch any ECS service (docs/compute.md). No lifecycle
        # hooks, revisions in S3 or trigger topics are used, so no Lambda, S3 or SNS grant.
        # CodeDeploy does not document aws:SourceAccount/SourceArn for assuming its role.
        self.role = ServiceRole(
            self,
            "role",
            name=naming.name("codedeploy", max_length=IAM_ROLE_NAME_LIMIT),
            description="CodeDeploy blue/green deployments of fraud-api",
            service_principal="codedeploy.amazonaws.com",
            trust=None,
            statements=self._deployment_statements(context, service),
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
            ecs_service=CodedeployDeploymentGroupEcsService(cluster_name=service.cluster_name, service_name=service.service_name),
            load_balancer_info=CodedeployDeploymentGroupLoadBalancerInfo(
                target_group_pair_info=CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfo(
                    prod_traffic_route=CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoProdTrafficRoute(
                        listener_arns=[service.production_listener_arn]
                    ),
                    test_traffic_route=CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoTestTrafficRoute(
                        listener_arns=[service.test_listener_arn]
                    ),
                    target_group=[
                        CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoTargetGroup(name=blue.name),
                        CodedeployDeploymentGroupLoadBalancerInfoTargetGroupPairInfoTargetGroup(name=green.name),
                    ],
                )
            ),
            # CodeDeploy checks the role's permissions when the group is created and updated: the
            # policy must be attached first, not merely the role exist.
            depends_on=[self.role.policy],
        )

    def _deployment_statements(self, context: AwsContext, service: DeployedService) -> list:
        service_arn = context.arn("ecs", f"service/{service.cluster_name}/{service.service_name}")
        return [
            allow("ShiftTaskSets", TASK_SET_ACTIONS, [service_arn, context.arn("ecs", f"task-set/{service.cluster_name}/{service.service_name}/*")]),
            allow("DescribeLoadBalancing", LOAD_BALANCER_DESCRIBE_ACTIONS, ["*"]),
            allow("MoveListenerTraffic", ["elasticloadbalancing:ModifyListener"], [service.production_listener_arn, service.test_listener_arn]),
            allow("MoveRuleTraffic", ["elasticloadbalancing:ModifyRule"], [rule.arn for rule in service.listener_rules]),
            allow("WatchRollbackAlarms", ["cloudwatch:DescribeAlarms"], [alarm.arn for alarm in self.alarms]),
            allow(
                "PassTaskRoles",
                ["iam:PassRole"],
                list(service.task_role_arns),
                ("StringEquals", "iam:PassedToService", [ECS_TASKS]),
            ),
        ]

    def _alarms(
        self, naming: ResourceNamer, colour: str, group: LbTargetGroup, load_balancer_arn_suffix: str, settings: ComputeSettings
    ) -> list[CloudwatchMetricAlarm]:
        dimensions = {"LoadBalancer": load_balancer_arn_suffix, "TargetGroup": group.arn_suffix}
        return [
            self._rollback_alarm(
                naming,
                colour,
                "5xx",
                description=f"fraud-api tasks behind the {colour} target group answer 5xx; stops and rolls back a deployment",
                metric_name="HTTPCode_Target_5XX_Count",
                dimensions=dimensions,
                statistic="Sum",
                evaluation_periods=1,
                # 5xx answers from the tasks of one target group within one minute.
                threshold=settings.rollback_target_5xx_per_minute,
            ),
            self._rollback_alarm(
                naming,
                colour,
                "unhealthy",
                description=f"a {colour} target fails the /health check; stops and rolls back a deployment",
                metric_name="UnHealthyHostCount",
                dimensions=dimensions,
                statistic="Maximum",
                # Minutes in a row with at least one unhealthy target.
                evaluation_periods=settings.rollback_unhealthy_minutes,
                threshold=1,
            ),
        ]

    def _rollback_alarm(
        self,
        naming: ResourceNamer,
        colour: str,
        kind: str,
        *,
        description: str,
        metric_name: str,
        dimensions: dict[str, str],
        statistic: str,
        evaluation_periods: int,
        threshold: float,
    ) -> CloudwatchMetricAlarm:
        """One minute-by-minute ALB metric of one colour's target group, at or over `threshold`."""
        return CloudwatchMetricAlarm(
            self,
            f"{colour}-{kind}",
            alarm_name=naming.name("api", colour, kind),
            alarm_description=description,
            namespace="AWS/ApplicationELB",
            metric_name=metric_name,
            dimensions=dimensions,
            statistic=statistic,
            period=60,
            evaluation_periods=evaluation_periods,
            threshold=threshold,
            comparison_operator="GreaterThanOrEqualToThreshold",
            # The idle colour has no traffic and so no data; that is healthy, not unknown.
            treat_missing_data="notBreaching",
        )
