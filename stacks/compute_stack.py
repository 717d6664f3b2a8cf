"""The compute layer: the fraud-api service and the transaction pipeline's functions.

Reads only the network and data contracts, so it can be destroyed and rebuilt without touching
edge or observability (they read this layer, never the other way round).
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from constructs import Construct

from components.compute.alerts import DEAD_LETTER_RETENTION_SECONDS, AlertsFanout
from components.compute.autoscaling import ScalingLimits, ServiceAutoscaling
from components.compute.blue_green import BlueGreenDeployment, RollbackThresholds
from components.compute.certificate import DnsValidatedCertificate
from components.compute.fraud_api_service import (
    ContainerImage,
    DatabaseConnection,
    FraudApiService,
    ServicePlacement,
    TaskSecrets,
)
from components.compute.load_balancer import InternalLoadBalancer, LoadBalancerPlacement
from components.compute.pipeline_functions import (
    FunctionPlacement,
    PipelineFunctions,
    PipelineKeys,
    PipelineSettings,
    TransactionStore,
)
from components.compute.schedule import LambdaSchedule
from components.network.security_groups import APPLICATION_PORT
from components.storage.secure_bucket import LifecycleSettings
from config.settings import EnvironmentConfig
from config.targets import DeploymentTarget
from stacks.base import LayerStack
from stacks.contracts import BlueGreenPair, ComputeContract, DataContract, NetworkContract
from stacks.layers import Layer

PATTERN_ANALYSIS_SCHEDULE = "rate(5 minutes)"
# Below the service's 20 s SIGTERM drain: the ALB stops routing before the task stops serving.
DEREGISTRATION_DELAY_SECONDS = 15
ACCESS_LOG_TRANSITION_TO_IA_DAYS = 30


class ComputeStack(LayerStack):
    def __init__(
        self,
        scope: Construct,
        *,
        environment: EnvironmentConfig,
        target: DeploymentTarget,
        network: NetworkContract,
        data: DataContract,
    ) -> None:
        super().__init__(scope, layer=Layer.COMPUTE, environment=environment, target=target)
        settings = environment.compute
        context = self.context

        cluster = EcsCluster(
            self,
            "cluster",
            name=self.naming.name("cluster"),
            setting=[EcsClusterSetting(name="containerInsights", value="enabled")],
        )
        certificate = DnsValidatedCertificate(
            self,
            "certificate",
            hosted_zone_name=environment.edge.hosted_zone_name,
            domain_name=environment.edge.api_domain_name,
        )
        load_balancer = InternalLoadBalancer(
            self,
            "load-balancer",
            naming=self.naming,
            context=context,
            placement=LoadBalancerPlacement(
                vpc_id=network.vpc_id,
                subnet_ids=network.application_subnet_ids,
                security_group_id=network.security_group_ids.load_balancer,
            ),
            certificate_arn=certificate.certificate_arn,
            target_port=APPLICATION_PORT,
            access_log_lifecycle=LifecycleSettings(
                transition_to_infrequent_access_days=ACCESS_LOG_TRANSITION_TO_IA_DAYS,
                expiration_days=settings.access_log_expiration_days,
            ),
            deregistration_delay_seconds=DEREGISTRATION_DELAY_SECONDS,
        )
        fraud_api = FraudApiService(
            self,
            "fraud-api",
            naming=self.naming,
            context=context,
            image=ContainerImage.resolve(settings.fraud_api_image, context),
            secrets=TaskSecrets(
                database=DatabaseConnection(
                    host=data.database_writer_endpoint,
                    port=data.database_port,
                    name=data.database_name,
                    credentials_secret_arn=data.database_master_secret_arn,
                ),
                api_config_secret_arn=data.api_config_secret_arn,
                secrets_key_arn=data.storage_key_arn,
            ),
            placement=ServicePlacement(
                cluster_arn=cluster.arn,
                cluster_name=cluster.name,
                subnet_ids=network.application_subnet_ids,
                security_group_id=network.security_group_ids.application,
                target_group_arn=load_balancer.blue.arn,
            ),
            container_port=APPLICATION_PORT,
            desired_count=settings.fraud_api_min_tasks,
            log_retention_days=settings.fraud_api_log_retention_days,
            logs_key_arn=data.logs_key_arn,
            depends_on=load_balancer.routing_rules,
        )
        ServiceAutoscaling(
            self,
            "autoscaling",
            naming=self.naming,
            cluster_name=cluster.name,
            service_name=fraud_api.service_name,
            load_balancer_arn_suffix=load_balancer.load_balancer.arn_suffix,
            limits=ScalingLimits(
                min_tasks=settings.fraud_api_min_tasks,
                max_tasks=settings.fraud_api_max_tasks,
                cpu_target_percent=settings.fraud_api_cpu_target_percent,
                requests_per_task_per_minute=settings.fraud_api_requests_per_target,
                scale_out_cooldown_seconds=settings.fraud_api_scale_out_cooldown_seconds,
                scale_in_cooldown_seconds=settings.fraud_api_scale_in_cooldown_seconds,
            ),
            peak=settings.fraud_api_peak,
        )
        deployment = BlueGreenDeployment(
            self,
            "blue-green",
            naming=self.naming,
            context=context,
            cluster_name=cluster.name,
            service_name=fraud_api.service_name,
            load_balancer_arn_suffix=load_balancer.load_balancer.arn_suffix,
            production_listener_arn=load_balancer.https_listener.arn,
            test_listener_arn=load_balancer.test_listener.arn,
            blue=load_balancer.blue,
            green=load_balancer.green,
            deployment_config_name=settings.deployment_config_name,
            termination_wait_minutes=settings.blue_green_termination_wait_minutes,
            thresholds=RollbackThresholds(
                target_5xx_per_minute=settings.rollback_target_5xx_per_minute,
                unhealthy_minutes=settings.rollback_unhealthy_minutes,
            ),
        )

        alerts = AlertsFanout(
            self,
            "alerts",
            naming=self.naming,
            context=context,
            messaging_key_arn=data.messaging_key_arn,
            logs_key_arn=data.logs_key_arn,
            log_retention_days=settings.log_retention_days,
        )
        pipeline = PipelineFunctions(
            self,
            "pipeline",
            naming=self.naming,
            context=context,
            store=TransactionStore(
                table_name=data.transactions_table_name,
                table_arn=data.transactions_table_arn,
                user_index_name=data.user_index_name,
                time_window_index_name=data.time_window_index_name,
                scoring_config_parameter_name=data.scoring_config_parameter_name,
                scoring_config_parameter_arn=data.scoring_config_parameter_arn,
            ),
            keys=PipelineKeys(
                storage_key_arn=data.storage_key_arn,
                messaging_key_arn=data.messaging_key_arn,
                logs_key_arn=data.logs_key_arn,
            ),
            alerts_topic_arn=alerts.topic.arn,
            placement=FunctionPlacement(
                subnet_ids=network.application_subnet_ids,
                security_group_id=network.security_group_ids.lambda_functions,
            ),
            settings=PipelineSettings(
                reserved_concurrency=settings.lambda_reserved_concurrency,
                log_retention_days=settings.log_retention_days,
                time_bucket_shards=settings.time_bucket_shards,
                transaction_ttl_days=environment.data.transaction_ttl_days,
                analysis_window_minutes=settings.analysis_window_minutes,
                dead_letter_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
            ),
        )
        analysis_schedule = LambdaSchedule(
            self,
            "pattern-analysis-schedule",
            naming=self.naming,
            name="pattern-analysis",
            description="Runs the pattern analyzer every 5 minutes",
            schedule_expression=PATTERN_ANALYSIS_SCHEDULE,
            function_name=pipeline.pattern_analyzer.name,
            function_arn=pipeline.pattern_analyzer.arn,
            messaging_key_arn=data.messaging_key_arn,
            dead_letter_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
        )

        self.contract = ComputeContract(
            load_balancer_arn=load_balancer.load_balancer.arn,
            load_balancer_arn_suffix=load_balancer.load_balancer.arn_suffix,
            load_balancer_dns_name=load_balancer.load_balancer.dns_name,
            https_listener_arn=load_balancer.https_listener.arn,
            test_listener_arn=load_balancer.test_listener.arn,
            target_group_arn_suffixes=BlueGreenPair(blue=load_balancer.blue.arn_suffix, green=load_balancer.green.arn_suffix),
            cluster_name=cluster.name,
            service_name=fraud_api.service_name,
            certificate_arn=certificate.certificate_arn,
            api_domain_name=environment.edge.api_domain_name,
            transaction_processor_function_name=pipeline.transaction_processor.name,
            transaction_processor_function_arn=pipeline.transaction_processor.arn,
            transaction_processor_invoke_arn=pipeline.transaction_processor.invoke_arn,
            pattern_analyzer_function_name=pipeline.pattern_analyzer.name,
            alerts_topic_arn=alerts.topic.arn,
            alerts_queue_name=alerts.queue.name,
            dead_letter_queue_names=(
                alerts.dead_letter_queue.name,
                *(queue.name for queue in pipeline.dead_letter_queues),
                analysis_schedule.dead_letter_queue.name,
            ),
            log_group_names=(
                fraud_api.log_group.name,
                *(function.log_group.name for function in pipeline.functions),
                *(group.name for group in alerts.delivery_log_groups),
            ),
            codedeploy_application_name=deployment.application.name,
            codedeploy_deployment_group_name=deployment.deployment_group.deployment_group_name,
        )

        # The names the first single-stack README promised its users (requirements/002).
        TerraformOutput(self, "alb_dns_name", value=load_balancer.load_balancer.dns_name, description="Internal ALB DNS name (reachable inside the VPC)")
        TerraformOutput(self, "ecs_cluster_name", value=cluster.name, description="ECS cluster running fraud-api")
        TerraformOutput(self, "ecs_service_name", value=fraud_api.service_name, description="fraud-api ECS service (CodeDeploy-controlled)")
        TerraformOutput(
            self,
            "fraud_api_task_definition_arn",
            value=fraud_api.task_definition.arn,
            description="Task definition revision of this apply: the one a CodeDeploy deployment ships",
        )
        TerraformOutput(self, "codedeploy_application_name", value=deployment.application.name)
        TerraformOutput(self, "codedeploy_deployment_group_name", value=deployment.deployment_group.deployment_group_name)
