"""The compute layer: the fraud-api service and the transaction pipeline's functions.

Reads only the network and data contracts, so it can be destroyed and rebuilt without touching
edge or observability (they read this layer, never the other way round).
"""

from __future__ import annotations

from constructs import Construct

from components.compute.alerts import AlertsFanout
from components.compute.fraud_api import ApiDomain, FraudApi, ServiceNetwork
from components.compute.fraud_api_service import DatabaseConnection, TaskSecrets
from components.compute.pipeline_functions import PipelineFunctions, PipelineKeys, TransactionStore
from components.compute.schedule import LambdaSchedule
from components.functions.python_function import FunctionPlacement
from components.storage.audit_log_archive import AuditArchiveLocation
from config.settings import EnvironmentConfig
from config.targets import DeploymentTarget
from stacks.base import LayerStack
from stacks.contracts import ComputeContract, ComputeUpstream
from stacks.layers import Layer

PATTERN_ANALYSIS_SCHEDULE = "rate(5 minutes)"


class ComputeStack(LayerStack):
    def __init__(self, scope: Construct, *, environment: EnvironmentConfig, target: DeploymentTarget, upstream: ComputeUpstream) -> None:
        super().__init__(scope, layer=Layer.COMPUTE, environment=environment, target=target)
        settings = environment.compute
        network, data = upstream.network, upstream.data

        fraud_api = FraudApi(
            # "Default" is the one construct id cdktf leaves out of Terraform addresses: the unit's
            # resources keep the addresses they had before it existed, so nothing is moved or replaced.
            self,
            "Default",
            naming=self.naming,
            context=self.context,
            settings=settings,
            domain=ApiDomain(hosted_zone_name=environment.edge.hosted_zone_name, name=environment.edge.api_domain_name),
            network=ServiceNetwork(
                vpc_id=network.vpc_id,
                subnet_ids=network.application_subnet_ids,
                load_balancer_security_group_id=network.security_group_ids.load_balancer,
                service_security_group_id=network.security_group_ids.application,
            ),
            secrets=TaskSecrets(
                database=DatabaseConnection(
                    host=data.database_writer_endpoint,
                    port=data.database_port,
                    name=data.database_name,
                    cluster_resource_id=data.database_cluster_resource_id,
                    owner_secret_arn=data.database_master_secret_arn,
                ),
                api_config_secret_arn=data.api_config_secret_arn,
                secrets_key_arn=data.storage_key_arn,
            ),
            logs_key_arn=data.logs_key_arn,
            access_log_archive=(
                AuditArchiveLocation.of(project=environment.project, context=self.context).load_balancer_logs(environment.name)
                if settings.access_logs_to_account_archive
                else None
            ),
        )

        alerts = AlertsFanout(
            self,
            "alerts",
            naming=self.naming,
            context=self.context,
            messaging_key_arn=data.messaging_key_arn,
            logs_key_arn=data.logs_key_arn,
            log_retention_days=settings.log_retention_days,
        )
        pipeline = PipelineFunctions(
            self,
            "pipeline",
            naming=self.naming,
            context=self.context,
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
            settings=settings,
            transaction_ttl_days=environment.data.transaction_ttl_days,
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
            context=self.context,
            messaging_key_arn=data.messaging_key_arn,
        )

        load_balancer = fraud_api.load_balancer
        self.contract = ComputeContract(
            load_balancer_arn=load_balancer.load_balancer.arn,
            load_balancer_arn_suffix=load_balancer.load_balancer.arn_suffix,
            target_group_arn_suffixes=load_balancer.target_group_arn_suffixes,
            cluster_name=fraud_api.cluster.name,
            service_name=fraud_api.service.service_name,
            fraud_api_log_metrics=fraud_api.log_metrics.names,
            certificate_arn=fraud_api.certificate.certificate_arn,
            api_domain_name=environment.edge.api_domain_name,
            transaction_processor_function_name=pipeline.transaction_processor.name,
            transaction_processor_invoke_arn=pipeline.transaction_processor.invoke_arn,
            pattern_analyzer_function_name=pipeline.pattern_analyzer.name,
            alerts_queue_name=alerts.queue.name,
            dead_letter_queue_names=(
                alerts.dead_letter_queue.name,
                *(queue.name for queue in pipeline.dead_letter_queues),
                analysis_schedule.dead_letter_queue.name,
            ),
        )

        # The names users of the first, single-stack version relied on (docs/requirements.md R8.9, R8.12).
        self.output("alb_dns_name", load_balancer.load_balancer.dns_name, "Internal ALB DNS name (reachable inside the VPC)")
        self.output("ecs_cluster_name", fraud_api.cluster.name, "ECS cluster running fraud-api")
        self.output("ecs_service_name", fraud_api.service.service_name, "fraud-api ECS service (CodeDeploy-controlled)")
        self.output("fraud_api_task_definition_arn", fraud_api.service.task_definition.arn,
                    "Task definition revision of this apply: the one a CodeDeploy deployment ships")
        # What the release runs the schema migration with, before each deployment (lifecycle/migration.py).
        self.output("fraud_api_migration_task_definition_arn", fraud_api.schema_migration.task_definition.arn,
                    "Task definition of the schema migration (python -m fraud_api.migrate) the release runs before traffic moves")
        self.output("fraud_api_migration_subnet_ids", list(network.application_subnet_ids),
                    "Subnets the schema migration task runs in (the application tier, like the service)")
        self.output("fraud_api_migration_security_group_id", network.security_group_ids.schema_migration,
                    "Security group of the schema migration task: PostgreSQL to Aurora and AWS APIs out, nothing in")
        self.output("codedeploy_application_name", fraud_api.deployment.application.name, "CodeDeploy application that releases fraud-api")
        self.output("codedeploy_deployment_group_name", fraud_api.deployment.deployment_group.deployment_group_name,
                    "CodeDeploy blue/green deployment group of the fraud-api service")
