"""Aurora Serverless v2 PostgreSQL for the fraud-api: private, encrypted, TLS-only, IAM-auth, destroyable."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.data_aws_subnet import DataAwsSubnet
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster, RdsClusterServerlessv2ScalingConfiguration
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import (
    RdsClusterParameterGroup,
    RdsClusterParameterGroupParameter,
)
from cdktf_cdktf_provider_aws.secretsmanager_secret_rotation import (
    SecretsmanagerSecretRotation,
    SecretsmanagerSecretRotationRotationRules,
)
from constructs import Construct

from components.compliance import skip_check
from components.naming import ResourceNamer
from components.security.log_groups import encrypted_log_group
from config.settings import DataSettings

ENGINE = "aurora-postgresql"
POSTGRES_PORT = 5432
SERVERLESS_INSTANCE_CLASS = "db.serverless"
# Every statement that changes the schema or roles lands in the audit log (PCI DSS 10.2).
AUDITED_STATEMENTS = "ddl"


class AuroraPostgres(Construct):
    """The cluster, its writer (and in prod a reader in a second AZ), parameters, logs and master secret.

    The master password exists only in the secret RDS creates and rotates itself
    (`manage_master_user_password`): Terraform never sees it, so neither the code, the
    configuration nor the state holds it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ResourceNamer,
        settings: DataSettings,
        subnet_ids: list[str],
        security_group_ids: list[str],
        storage_key_arn: str,
        logs_key_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        identifier = naming.name("aurora")
        major_version = settings.aurora_engine_version.split(".")[0]

        # Created before the cluster so RDS exports into an encrypted group with a retention,
        # instead of creating an unencrypted one that never expires.
        self.log_group = encrypted_log_group(
            self,
            "postgresql-logs",
            name=f"/aws/rds/cluster/{identifier}/postgresql",
            retention_days=settings.log_retention_days,
            logs_key_arn=logs_key_arn,
        )
        self.subnet_group = DbSubnetGroup(
            self,
            "subnets",
            name=naming.name("database"),
            subnet_ids=subnet_ids,
            description="Isolated data subnets: no route out of the VPC",
        )
        self.parameter_group = RdsClusterParameterGroup(
            self,
            "parameters",
            # A prefix, not a name: create_before_destroy builds the replacement while the old
            # group still holds its name (DBParameterGroupAlreadyExists with a fixed one).
            name_prefix=f"{naming.name('aurora', f'postgresql{major_version}')}-",
            family=f"aurora-postgresql{major_version}",
            description="TLS-only connections and audit logging",
            # A new major version is a new group: build it before the cluster lets go of the old one.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            parameter=[
                # Static on some engine versions: pending-reboot is accepted for both kinds and a
                # new cluster boots with it.
                RdsClusterParameterGroupParameter(name="rds.force_ssl", value="1", apply_method="pending-reboot"),
                RdsClusterParameterGroupParameter(name="log_connections", value="1"),
                RdsClusterParameterGroupParameter(name="log_disconnections", value="1"),
                RdsClusterParameterGroupParameter(name="log_statement", value=AUDITED_STATEMENTS),
                RdsClusterParameterGroupParameter(name="log_lock_waits", value="1"),
                RdsClusterParameterGroupParameter(
                    name="log_min_duration_statement", value=str(settings.slow_query_log_ms)
                ),
            ],
        )

        self.cluster = RdsCluster(
            self,
            "cluster",
            cluster_identifier=identifier,
            engine=ENGINE,
            engine_mode="provisioned",
            engine_version=settings.aurora_engine_version,
            database_name=settings.database_name,
            port=POSTGRES_PORT,
            master_username=settings.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=storage_key_arn,
            iam_database_authentication_enabled=True,
            serverlessv2_scaling_configuration=RdsClusterServerlessv2ScalingConfiguration(
                min_capacity=settings.aurora_min_capacity_acu, max_capacity=settings.aurora_max_capacity_acu
            ),
            storage_encrypted=True,
            kms_key_id=storage_key_arn,
            db_subnet_group_name=self.subnet_group.name,
            vpc_security_group_ids=security_group_ids,
            db_cluster_parameter_group_name=self.parameter_group.name,
            enabled_cloudwatch_logs_exports=["postgresql"],
            backup_retention_period=settings.backup_retention_days,
            preferred_backup_window=settings.preferred_backup_window,
            preferred_maintenance_window=settings.preferred_maintenance_window,
            copy_tags_to_snapshot=True,
            # Every environment must tear down without manual steps (docs/requirements.md R8.2): recovery
            # relies on automated backups and point-in-time restore within the retention period.
            deletion_protection=False,
            # Terraform's final snapshot carries the name of the last apply, so a second teardown
            # would collide with the first one's snapshot: where the settings keep final backups,
            # the lifecycle takes a snapshot named at teardown time instead (lifecycle/final_backups.py).
            skip_final_snapshot=True,
            # Kept, the automated backups stay restorable for their retention after the cluster is
            # gone, also when it is destroyed by hand (cdktf destroy) rather than by the lifecycle.
            delete_automated_backups=not settings.final_backups_on_destroy,
            depends_on=[self.log_group],
            # The pinned version is what a new cluster starts with. Even with automatic minor
            # upgrades off, RDS upgrades a minor version that reaches end of standard support;
            # comparing against the pin would then plan a downgrade RDS refuses, on every apply.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["engine_version"]),
        )
        skip_check(
            self.cluster,
            "CKV2_AWS_8",
            "recovery is Aurora's automated backups and point-in-time restore (retention per environment); an AWS Backup "
            "vault would hold recovery points that block tearing the environment down, which R8.2 forbids",
        )
        skip_check(
            self.cluster,
            "CKV_AWS_139",
            "deletion protection is off because every environment must be destroyable by the pipeline (R8.2)",
        )

        zones = [
            DataAwsSubnet(self, f"subnet-{index}", id=subnet_id).availability_zone
            for index, subnet_id in enumerate(subnet_ids[:2])
        ]
        self.writer = self._instance("writer", naming.name("aurora", "writer"), zones[0], 0, settings, storage_key_arn)
        self.instances = [self.writer]
        if settings.aurora_reader_in_second_az:
            # The first instance of an Aurora cluster becomes its writer: the reader waits for it.
            self.instances.append(
                self._instance(
                    "reader", naming.name("aurora", "reader"), zones[1], 1, settings, storage_key_arn, after=self.writer
                )
            )

        master_secret = self.cluster.master_user_secret.get(0)
        self.master_secret_arn = master_secret.secret_arn
        # RDS rotates its master secret itself (managed rotation, no Lambda), every 7 days by
        # default. Secrets Manager lets the owner change only the schedule of a managed secret:
        # RotateSecret with RotationRules and no Lambda ARN, which the provider supports since 5.24.
        SecretsmanagerSecretRotation(
            self,
            "master-secret-rotation",
            secret_id=self.master_secret_arn,
            rotation_rules=SecretsmanagerSecretRotationRotationRules(
                automatically_after_days=settings.secret_rotation_days
            ),
            # RDS has just created the password; the next rotation follows the schedule.
            rotate_immediately=False,
        )

        self.identifier = self.cluster.cluster_identifier
        self.resource_id = self.cluster.cluster_resource_id
        self.writer_endpoint = self.cluster.endpoint
        self.reader_endpoint = self.cluster.reader_endpoint
        self.port = Token.as_string(self.cluster.port)
        self.database_name = self.cluster.database_name

    def _instance(
        self,
        construct_id: str,
        identifier: str,
        availability_zone: str,
        promotion_tier: int,
        settings: DataSettings,
        storage_key_arn: str,
        after: RdsClusterInstance | None = None,
    ) -> RdsClusterInstance:
        instance = RdsClusterInstance(
            self,
            construct_id,
            identifier=identifier,
            cluster_identifier=self.cluster.id,
            engine=self.cluster.engine,
            engine_version=self.cluster.engine_version,
            instance_class=SERVERLESS_INSTANCE_CLASS,
            availability_zone=availability_zone,
            promotion_tier=promotion_tier,
            db_subnet_group_name=self.subnet_group.name,
            publicly_accessible=False,
            # The engine version is pinned in configuration and upgraded through a reviewed plan;
            # an automatic minor upgrade would make the deployed version drift from the pinned one.
            auto_minor_version_upgrade=False,
            performance_insights_enabled=settings.performance_insights_enabled,
            performance_insights_kms_key_id=storage_key_arn if settings.performance_insights_enabled else None,
            performance_insights_retention_period=(
                settings.performance_insights_retention_days if settings.performance_insights_enabled else None
            ),
            copy_tags_to_snapshot=True,
            depends_on=[after] if after else None,
        )
        skip_check(
            instance,
            "CKV_AWS_226",
            "minor versions are pinned in config (data.aurora_engine_version) and upgraded deliberately through dev, staging, prod",
        )
        skip_check(
            instance,
            "CKV_AWS_118",
            "enhanced monitoring writes to the account-wide RDSOSMetrics log group, which cannot carry this environment's CMK; "
            "Performance Insights (CMK-encrypted) and CloudWatch metrics cover the database",
        )
        return instance
