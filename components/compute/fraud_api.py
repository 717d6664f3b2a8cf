"""fraud-api as one unit: everything the service needs to run and to be released, built together.

The ECS cluster, the DNS-validated certificate, the internal ALB with its blue/green target
groups, the Fargate service, its autoscaling, the CodeDeploy blue/green deployment and the schema
migration task the release runs before it always travel together: none is useful without the
others, and each is wired to several of the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from constructs import Construct

from components.aws_context import AwsContext
from components.compute.autoscaling import ServiceAutoscaling
from components.compute.blue_green import BlueGreenDeployment, DeployedService
from components.compute.certificate import DnsValidatedCertificate
from components.compute.fraud_api_service import FraudApiService, ServicePlacement, TaskSecrets
from components.compute.load_balancer import InternalLoadBalancer, LoadBalancerPlacement
from components.compute.log_metrics import ServiceLogMetrics
from components.compute.schema_migration import SchemaMigrationTask
from components.naming import ResourceNamer
from components.network.security_groups import APPLICATION_PORT
from components.security.log_groups import encrypted_log_group
from components.storage.audit_log_archive import ArchiveDestination
from components.storage.secure_bucket import LifecycleSettings
from config.settings import ComputeSettings

# Below the service's 20 s SIGTERM drain: the ALB stops routing before the task stops serving.
DEREGISTRATION_DELAY_SECONDS = 15
ACCESS_LOG_TRANSITION_TO_IA_DAYS = 30


@dataclass(frozen=True)
class ServiceNetwork:
    """Where the load balancer and the tasks run, and the security group of each."""

    vpc_id: str
    subnet_ids: Sequence[str]
    load_balancer_security_group_id: str
    service_security_group_id: str


@dataclass(frozen=True)
class ApiDomain:
    """The API's DNS name and the public hosted zone that validates its certificate."""

    hosted_zone_name: str
    name: str


class FraudApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        context: AwsContext,
        settings: ComputeSettings,
        domain: ApiDomain,
        network: ServiceNetwork,
        secrets: TaskSecrets,
        logs_key_arn: str,
        access_log_archive: ArchiveDestination | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        cluster_name = naming.name("cluster")
        # Container Insights writes the cluster's performance events here and creates the group
        # itself when it is missing: unencrypted, never expiring and unknown to teardown. Made
        # first, so the cluster only ever finds this one; destroyed after the cluster.
        self.container_insights_logs = encrypted_log_group(
            self,
            "container-insights-logs",
            name=f"/aws/ecs/containerinsights/{cluster_name}/performance",
            retention_days=settings.log_retention_days,
            logs_key_arn=logs_key_arn,
            why_shorter_than_a_year="Container Insights performance metrics, read for recent trends",
        )
        self.cluster = EcsCluster(
            self,
            "cluster",
            name=cluster_name,
            setting=[EcsClusterSetting(name="containerInsights", value="enabled")],
            depends_on=[self.container_insights_logs],
        )
        self.certificate = DnsValidatedCertificate(
            self, "certificate", hosted_zone_name=domain.hosted_zone_name, domain_name=domain.name
        )
        self.load_balancer = InternalLoadBalancer(
            self,
            "load-balancer",
            naming=naming,
            context=context,
            placement=LoadBalancerPlacement(
                vpc_id=network.vpc_id,
                subnet_ids=network.subnet_ids,
                security_group_id=network.load_balancer_security_group_id,
            ),
            certificate_arn=self.certificate.certificate_arn,
            target_port=APPLICATION_PORT,
            access_log_lifecycle=LifecycleSettings(
                transition_to_infrequent_access_days=ACCESS_LOG_TRANSITION_TO_IA_DAYS,
                expiration_days=settings.access_log_expiration_days,
            ),
            deregistration_delay_seconds=DEREGISTRATION_DELAY_SECONDS,
            access_log_archive=access_log_archive,
        )
        self.service = FraudApiService(
            self,
            "fraud-api",
            naming=naming,
            context=context,
            settings=settings,
            secrets=secrets,
            placement=ServicePlacement(
                cluster_arn=self.cluster.arn,
                cluster_name=self.cluster.name,
                subnet_ids=network.subnet_ids,
                security_group_id=network.service_security_group_id,
                target_group_arn=self.load_balancer.blue.arn,
            ),
            container_port=APPLICATION_PORT,
            logs_key_arn=logs_key_arn,
            depends_on=self.load_balancer.routing_rules,
        )
        self.log_metrics = ServiceLogMetrics(
            self, "log-metrics", namespace=naming.name("api"), log_group_name=self.service.log_group.name
        )
        # Same image, same log group; the owner's login, which the service never holds.
        self.schema_migration = SchemaMigrationTask(
            self,
            "schema-migration",
            naming=naming,
            context=context,
            image=self.service.image,
            secrets=secrets,
            log_group=self.service.log_group,
        )
        self.autoscaling = ServiceAutoscaling(
            self,
            "autoscaling",
            naming=naming,
            cluster_name=self.cluster.name,
            service_name=self.service.service_name,
            load_balancer_arn_suffix=self.load_balancer.load_balancer.arn_suffix,
            settings=settings,
        )
        self.deployment = BlueGreenDeployment(
            self,
            "blue-green",
            naming=naming,
            context=context,
            service=DeployedService(
                cluster_name=self.cluster.name,
                service_name=self.service.service_name,
                task_role_arns=(self.service.execution_role.arn, self.service.task_role.arn),
                production_listener_arn=self.load_balancer.https_listener.arn,
                test_listener_arn=self.load_balancer.test_listener.arn,
                listener_rules=self.load_balancer.routing_rules,
            ),
            load_balancer_arn_suffix=self.load_balancer.load_balancer.arn_suffix,
            blue=self.load_balancer.blue,
            green=self.load_balancer.green,
            settings=settings,
        )
