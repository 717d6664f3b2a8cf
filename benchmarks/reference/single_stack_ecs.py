"""Baseline for the synth benchmark: the fraud-api as a typical single-stack attempt would build it.

Not part of the platform. It mirrors the shape of a single-stack attempt at the fraud-api
requirements (docs/requirements.md R1-R3, R5, R6): one stack, one constructor, every resource
for one environment, so
`benchmarks/bench_synth.py` can compare synthesizing all 15 platform stacks against
synthesizing that one stack, on the same machine, in the same run.

    .venv/bin/python benchmarks/reference/single_stack_ecs.py <outdir>
"""

from __future__ import annotations

import json
import sys

from cdktf import App, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.api_gateway_rest_api import ApiGatewayRestApi
from cdktf_cdktf_provider_aws.api_gateway_usage_plan import ApiGatewayUsagePlan, ApiGatewayUsagePlanThrottleSettings
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster
from cdktf_cdktf_provider_aws.ecs_service import EcsService, EcsServiceNetworkConfiguration
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster, RdsClusterServerlessv2ScalingConfiguration
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.route_table import RouteTable, RouteTableRoute
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.security_group import SecurityGroup, SecurityGroupEgress, SecurityGroupIngress
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.wafv2_web_acl import Wafv2WebAcl

SUFFIX = "bench"
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")


class FraudDetectionStack(TerraformStack):
    def __init__(self, scope: App) -> None:
        super().__init__(scope, "fraud-detection")
        AwsProvider(self, "aws", region="us-east-1")
        key = KmsKey(self, "key", enable_key_rotation=True)
        vpc = Vpc(self, "vpc", cidr_block="10.0.0.0/16", enable_dns_hostnames=True)
        igw = InternetGateway(self, "igw", vpc_id=vpc.id)
        public = [Subnet(self, f"public-{i}", vpc_id=vpc.id, cidr_block=f"10.0.{i}.0/24", availability_zone=z) for i, z in enumerate(ZONES)]
        private = [Subnet(self, f"private-{i}", vpc_id=vpc.id, cidr_block=f"10.0.{10 + i}.0/24", availability_zone=z) for i, z in enumerate(ZONES)]
        nat = NatGateway(self, "nat", subnet_id=public[0].id, allocation_id=Eip(self, "eip", domain="vpc").id)
        RouteTable(self, "public-rt", vpc_id=vpc.id, route=[RouteTableRoute(cidr_block="0.0.0.0/0", gateway_id=igw.id)])
        RouteTable(self, "private-rt", vpc_id=vpc.id, route=[RouteTableRoute(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)])
        logs = S3Bucket(self, "flow-logs", bucket=f"flow-logs-{SUFFIX}", force_destroy=True)
        FlowLog(self, "flow-log", vpc_id=vpc.id, traffic_type="ALL", log_destination_type="s3", log_destination=logs.arn)
        alb_sg = SecurityGroup(self, "alb-sg", vpc_id=vpc.id, ingress=[SecurityGroupIngress(from_port=443, to_port=443, protocol="tcp", cidr_blocks=["0.0.0.0/0"])],
                               egress=[SecurityGroupEgress(from_port=0, to_port=0, protocol="-1", cidr_blocks=["0.0.0.0/0"])])
        ecs_sg = SecurityGroup(self, "ecs-sg", vpc_id=vpc.id, ingress=[SecurityGroupIngress(from_port=8080, to_port=8080, protocol="tcp", security_groups=[alb_sg.id])])
        alb = Lb(self, "alb", name=f"fraud-alb-{SUFFIX}", load_balancer_type="application", subnets=[s.id for s in public], security_groups=[alb_sg.id])
        blue = LbTargetGroup(self, "blue", name=f"fraud-tg-blue-{SUFFIX}", port=8080, protocol="HTTP", vpc_id=vpc.id, target_type="ip")
        LbTargetGroup(self, "green", name=f"fraud-tg-green-{SUFFIX}", port=8080, protocol="HTTP", vpc_id=vpc.id, target_type="ip")
        LbListener(self, "https", load_balancer_arn=alb.arn, port=443, protocol="HTTPS", certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/x",
                   default_action=[LbListenerDefaultAction(type="forward", target_group_arn=blue.arn)])
        role = IamRole(self, "task-role", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
        cluster = EcsCluster(self, "cluster", name=f"fraud-cluster-{SUFFIX}")
        task = EcsTaskDefinition(self, "task", family=f"fraud-api-{SUFFIX}", cpu="1024", memory="2048", network_mode="awsvpc", requires_compatibilities=["FARGATE"],
                                 execution_role_arn=role.arn, task_role_arn=role.arn, container_definitions=json.dumps([{"name": "fraud-api", "image": "fraud-api:latest"}]))
        service = EcsService(self, "service", name=f"fraud-api-{SUFFIX}", cluster=cluster.id, task_definition=task.arn, desired_count=2, launch_type="FARGATE",
                             network_configuration=EcsServiceNetworkConfiguration(subnets=[s.id for s in private], security_groups=[ecs_sg.id]))
        target = AppautoscalingTarget(self, "scaling-target", max_capacity=10, min_capacity=2, resource_id=f"service/{cluster.name}/{service.name}",
                                      scalable_dimension="ecs:service:DesiredCount", service_namespace="ecs")
        AppautoscalingPolicy(self, "cpu", name=f"cpu-{SUFFIX}", policy_type="TargetTrackingScaling", resource_id=target.resource_id, scalable_dimension=target.scalable_dimension,
                             service_namespace=target.service_namespace, target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                                 target_value=70, predefined_metric_specification=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                                     predefined_metric_type="ECSServiceAverageCPUUtilization")))
        cluster_db = RdsCluster(self, "aurora", cluster_identifier=f"fraud-db-{SUFFIX}", engine="aurora-postgresql", engine_mode="provisioned", master_username="fraud",
                                manage_master_user_password=True, storage_encrypted=True, kms_key_id=key.arn, skip_final_snapshot=True,
                                serverlessv2_scaling_configuration=RdsClusterServerlessv2ScalingConfiguration(min_capacity=0.5, max_capacity=4))
        RdsClusterInstance(self, "aurora-writer", cluster_identifier=cluster_db.id, instance_class="db.serverless", engine="aurora-postgresql")
        SecretsmanagerSecret(self, "api-config", name=f"api-config-{SUFFIX}", kms_key_id=key.arn)
        api = ApiGatewayRestApi(self, "api", name=f"fraud-api-{SUFFIX}")
        ApiGatewayUsagePlan(self, "plan", name=f"plan-{SUFFIX}", throttle_settings=ApiGatewayUsagePlanThrottleSettings(rate_limit=1000, burst_limit=2000))
        Wafv2WebAcl(self, "waf", name=f"waf-{SUFFIX}", scope="REGIONAL", default_action={"allow": {}},
                    visibility_config={"cloudwatch_metrics_enabled": True, "metric_name": "waf", "sampled_requests_enabled": True})
        CloudwatchMetricAlarm(self, "latency", alarm_name=f"latency-{SUFFIX}", namespace="AWS/ApplicationELB", metric_name="TargetResponseTime",
                              comparison_operator="GreaterThanThreshold", evaluation_periods=2, period=60, extended_statistic="p99", threshold=0.2)
        CloudwatchDashboard(self, "dashboard", dashboard_name=f"fraud-{SUFFIX}", dashboard_body=json.dumps({"widgets": []}))
        TerraformOutput(self, "alb_dns_name", value=alb.dns_name)
        TerraformOutput(self, "api_id", value=api.id)


if __name__ == "__main__":
    app = App(outdir=sys.argv[1] if len(sys.argv) > 1 else "cdktf.out.reference")
    FraudDetectionStack(app)
    app.synth()
