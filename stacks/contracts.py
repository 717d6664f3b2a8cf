"""What each layer exports to the layers above it, and nothing more.

A producer stack builds its contract from its own resources; a consumer receives the contracts
of the layers below it (its `*Upstream`, at the end of this file) as a constructor argument and
never reaches into the producer's constructs. The values are
Terraform tokens: used in another stack, cdktf turns each into an output of the producer and a
`terraform_remote_state` read in the consumer. Every field is read by some consumer
(`tests/stacks/test_contracts.py`): a value a layer needs is added with its first reader.
What users read (endpoints, names) are the stacks' `TerraformOutput`s, not contract fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.compute.load_balancer import BlueGreenPair
from components.compute.log_metrics import LogMetricNames


@dataclass(frozen=True)
class SecurityGroupIds:
    """One security group per tier; all live in the network layer so no layer has a cycle."""

    # The edge NLB behind the API Gateway VPC link; the ALB admits only this group.
    vpc_link_load_balancer: str
    load_balancer: str
    application: str
    lambda_functions: str
    database: str
    # The one-off schema migration task: reaches the database and AWS APIs, admits nothing.
    schema_migration: str


@dataclass(frozen=True)
class NetworkContract:
    vpc_id: str
    vpc_cidr: str
    application_subnet_ids: tuple[str, ...]
    data_subnet_ids: tuple[str, ...]
    nat_gateway_ids: tuple[str, ...]
    security_group_ids: SecurityGroupIds


@dataclass(frozen=True)
class DataContract:
    """Keys, database, table, secrets and parameters, named `{name}_{type}_{attribute}`.

    Three keys by purpose (see docs/data.md): `storage` encrypts what is stored (Aurora,
    DynamoDB, secrets, SecureString parameters, Lambda environments), `messaging` SNS/SQS, and
    `logs` CloudWatch log groups. Each key's policy already admits its AWS services; a consumer
    still grants its own roles `kms:Decrypt`/`kms:GenerateDataKey` on the key ARN.
    """

    storage_key_arn: str
    messaging_key_arn: str
    logs_key_arn: str

    database_cluster_identifier: str
    # `cluster-<id>`: IAM database authentication grants name it (`rds-db:connect` on `dbuser:<id>/<user>`).
    database_cluster_resource_id: str
    database_writer_endpoint: str
    database_port: str
    database_name: str
    # RDS-managed master credentials (`{"username", "password"}`), encrypted with the storage key:
    # the schema owner's login, for the migration task only (docs/security.md, "The master secret").
    database_master_secret_arn: str

    # `{"signing_key": ..., "scoring": {...}}`, rotated every `secret_rotation_days`.
    api_config_secret_arn: str

    transactions_table_name: str
    transactions_table_arn: str
    # GSI names are fixed (the service code queries them); their ARNs are `<table arn>/index/<name>`.
    user_index_name: str
    time_window_index_name: str

    # SecureString (storage key) holding the scoring configuration JSON the Lambdas read.
    scoring_config_parameter_name: str
    scoring_config_parameter_arn: str


@dataclass(frozen=True)
class ComputeContract:
    """What edge (VPC link → NLB → this ALB, the custom domain, the Lambda integration) and
    observability (dashboards, alarms) need from the compute layer (see docs/compute.md)."""

    # The INTERNAL ALB. The edge NLB forwards TCP 443 to it through an `alb`-type target group.
    load_balancer_arn: str
    # `app/<name>/<id>`: the `LoadBalancer` dimension of AWS/ApplicationELB metrics.
    load_balancer_arn_suffix: str
    # `targetgroup/<name>/<id>`: the `TargetGroup` dimension; watch both, either may be live.
    target_group_arn_suffixes: BlueGreenPair

    cluster_name: str
    service_name: str
    # Counted from the service's log: failed API-config refreshes, refusals to serve at start.
    fraud_api_log_metrics: LogMetricNames

    # ACM certificate (DNS-validated, issued) for `api_domain_name` and `*.<api_domain_name>`;
    # the ALB presents it, and edge may reuse it for the API Gateway regional custom domain.
    certificate_arn: str
    api_domain_name: str

    transaction_processor_function_name: str
    # For the API Gateway `AWS_PROXY` integration URI.
    transaction_processor_invoke_arn: str
    pattern_analyzer_function_name: str

    alerts_queue_name: str
    # Every dead-letter queue of the layer (alerts redrive, each function's failure queue).
    dead_letter_queue_names: tuple[str, ...]


@dataclass(frozen=True)
class EdgeContract:
    """What observability needs from the edge layer (see docs/edge.md): the REST API's stage,
    the web ACL's rule metrics and the VPC link's NLB, each as CloudWatch names it."""

    # The `ApiName` dimension of AWS/ApiGateway metrics (with `Stage`).
    rest_api_name: str
    stage_name: str

    # The ACL's own metric name (its `Rule` dimension is `ALL` for totals).
    web_acl_metric_name: str
    # Every rule's `visibility_config.metric_name`, in rule priority order (plain strings).
    web_acl_rule_metric_names: tuple[str, ...]

    # The internal NLB behind the VPC link: `net/<name>/<id>` is the `LoadBalancer` dimension of
    # AWS/NetworkELB metrics, `targetgroup/<name>/<id>` the `TargetGroup` one (the ALB as target).
    vpc_link_load_balancer_arn_suffix: str
    vpc_link_target_group_arn_suffix: str


@dataclass(frozen=True)
class DataUpstream:
    """What a layer stack is given: the contracts of every layer deployed before it.

    Each layer reads all the layers below it (`stacks/layers.py`), so each of these is the one
    before plus the next producer's contract; `stacks/platform.py` hands each stack its own.
    """

    network: NetworkContract


@dataclass(frozen=True)
class ComputeUpstream(DataUpstream):
    data: DataContract


@dataclass(frozen=True)
class EdgeUpstream(ComputeUpstream):
    compute: ComputeContract


@dataclass(frozen=True)
class ObservabilityUpstream(EdgeUpstream):
    edge: EdgeContract
