"""The data layer: what the platform must never lose and never leak.

Keys first (everything below is encrypted with them), then the database, the transactions table,
the API configuration secret with its rotation function, and the parameters the functions read.
"""

from __future__ import annotations

from constructs import Construct

from components.data.aurora import AuroraPostgres
from components.data.kms_keys import DataKeys
from components.data.parameters import DataParameters
from components.data.secrets import RotatedApiConfigSecret
from components.data.transactions_table import TransactionsTable
from components.functions.python_function import FunctionPlacement
from config.settings import EnvironmentConfig
from config.targets import DeploymentTarget
from stacks.base import LayerStack
from stacks.contracts import DataContract, DataUpstream
from stacks.layers import Layer


class DataStack(LayerStack):
    def __init__(self, scope: Construct, *, environment: EnvironmentConfig, target: DeploymentTarget, upstream: DataUpstream) -> None:
        super().__init__(scope, layer=Layer.DATA, environment=environment, target=target)
        settings = environment.data
        context = self.context
        network = upstream.network

        keys = DataKeys(self, "keys", naming=self.naming, context=context, deletion_window_days=settings.kms_deletion_window_days)

        database = AuroraPostgres(
            self,
            "aurora",
            naming=self.naming,
            settings=settings,
            subnet_ids=list(network.data_subnet_ids),
            security_group_ids=[network.security_group_ids.database],
            storage_key_arn=keys.storage.arn,
            logs_key_arn=keys.logs.arn,
        )

        transactions = TransactionsTable(self, "transactions", naming=self.naming, kms_key_arn=keys.storage.arn)

        api_config = RotatedApiConfigSecret(
            self,
            "api-config",
            naming=self.naming,
            context=context,
            settings=settings,
            storage_key_arn=keys.storage.arn,
            logs_key_arn=keys.logs.arn,
            placement=FunctionPlacement(
                subnet_ids=network.application_subnet_ids,
                security_group_id=network.security_group_ids.lambda_functions,
            ),
        )

        parameters = DataParameters(
            self,
            "parameters",
            naming=self.naming,
            context=context,
            storage_key_arn=keys.storage.arn,
            scoring_document=settings.scoring.to_document(),
            plain_values={
                ("database", "writer-endpoint"): (database.writer_endpoint, "Aurora writer endpoint"),
                ("database", "reader-endpoint"): (database.reader_endpoint, "Aurora reader endpoint"),
                ("database", "port"): (database.port, "Aurora PostgreSQL port"),
                ("database", "name"): (database.database_name, "Aurora database name"),
                ("transactions", "table-name"): (transactions.name, "Transactions table name"),
                ("transactions", "user-index-name"): (transactions.user_index_name, "GSI of a user's transactions by time"),
                ("transactions", "time-window-index-name"): (
                    transactions.time_window_index_name,
                    "GSI of one minute-bucket shard's transactions by time",
                ),
            },
        )

        # Names and ARNs only: secret values are read from Secrets Manager, never from outputs.
        self.output("aurora_endpoint", database.writer_endpoint, "Aurora writer endpoint (inside the VPC)")
        self.output("aurora_reader_endpoint", database.reader_endpoint, "Aurora reader endpoint (inside the VPC)")
        self.output("aurora_master_secret_arn", database.master_secret_arn, "Secret holding the RDS-managed master credentials (rotated by RDS)")
        self.output("transactions_table_name", transactions.name, "DynamoDB table of scored transactions")
        self.output("api_config_secret_arn", api_config.arn,
                    "Secret holding the API signing key and scoring settings (rotated by the rotation function)")

        self.contract = DataContract(
            storage_key_arn=keys.storage.arn,
            messaging_key_arn=keys.messaging.arn,
            logs_key_arn=keys.logs.arn,
            database_cluster_identifier=database.identifier,
            database_cluster_resource_id=database.resource_id,
            database_writer_endpoint=database.writer_endpoint,
            database_port=database.port,
            database_name=database.database_name,
            database_master_secret_arn=database.master_secret_arn,
            api_config_secret_arn=api_config.arn,
            transactions_table_name=transactions.name,
            transactions_table_arn=transactions.arn,
            user_index_name=transactions.user_index_name,
            time_window_index_name=transactions.time_window_index_name,
            scoring_config_parameter_name=parameters.scoring_config_name,
            scoring_config_parameter_arn=parameters.scoring_config_arn,
        )
