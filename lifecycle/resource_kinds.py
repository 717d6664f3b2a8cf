"""Every resource type the layers declare, as the account sees it: how to find one, adopt it, or delete it.

A run killed hard leaves resources that exist in the account but in no state (docs/lifecycle.md,
"When a run dies"). What can be done about one depends on its type:

- **named** (`NAMED_KINDS`): its identity follows from the synthesized stack (a bucket, a KMS
  alias, a role, a log group, a queue, a topic, a parameter group, a secret, ...: names from
  `components/naming.py`). The lifecycle looks each declared one up by that name; a next apply
  would fail on it with AlreadyExists, and a Terraform `import` block adopts it instead.
- **anonymous** (`TAGGED_KINDS`): the account makes up its id (a VPC, a subnet, a NAT gateway,
  an Elastic IP, a REST API, a certificate, ...). A next apply would not fail: it would create
  another one beside it. Found by the provider's default tags (`Environment`, `Project`, `Layer`:
  `stacks/base.py`); they can only be deleted, and each comes with its delete command.
- **part of another** (`PARTS`): a setting or child of another resource (a bucket's versioning, a
  role's inline policy, a route, an API's methods). It goes with its parent, or applying it again
  overwrites it; nothing to find on its own.

Every type any environment's stacks declare is in exactly one of the three (tests check that
against the synth), so a new type cannot be left out silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from stacks.layers import Layer

# The provider's default tags every taggable resource of a layer carries (stacks/base.py).
ENVIRONMENT_TAG, PROJECT_TAG, LAYER_TAG, NAME_TAG = "Environment", "Project", "Layer", "Name"
# Kept on purpose by a prod teardown (lifecycle/teardown.py): never an orphan.
KEPT_TAG = "KeptFor"
# KMS's shortest deletion window: what deleting a key means.
KEY_DELETION_WINDOW_DAYS = 7
NAT_GATEWAY_DELETE_WAIT = {"Delay": 15, "MaxAttempts": 40}  # at most 10 minutes


@dataclass(frozen=True)
class Account:
    """Where to look: the target's clients, and what the synthesized names interpolate."""

    clients: Any  # lifecycle.clients.TargetClients, or anything with .client(service)
    account_id: str
    region: str
    partition: str
    environment: str
    project: str
    # Appended to every printed aws CLI command (the region; the emulator's endpoint).
    cli_options: str = ""

    def client(self, service: str) -> Any:
        return self.clients.client(service)

    def owns(self, tags: dict[str, str]) -> bool:
        return tags.get(ENVIRONMENT_TAG) == self.environment and tags.get(PROJECT_TAG) == self.project and KEPT_TAG not in tags

    @property
    def tag_filters(self) -> list[dict[str, Any]]:
        """EC2 `Filters` selecting this environment's resources."""
        return [{"Name": f"tag:{ENVIRONMENT_TAG}", "Values": [self.environment]}, {"Name": f"tag:{PROJECT_TAG}", "Values": [self.project]}]


@dataclass(frozen=True)
class DeletionStep:
    """One call that deletes (part of) an anonymous resource; steps run in `order` across all resources."""

    order: int
    command: str  # the aws CLI equivalent, printed for the operator
    run: Callable[[], None] = field(compare=False, repr=False)


@dataclass(frozen=True)
class LiveResource:
    """A resource of the environment that exists in the account."""

    resource_type: str
    identity: str  # as the resource's state records it (its `id`, unless the kind says otherwise)
    label: str  # what an operator recognises it by
    layer: Layer | None  # the layer whose code declares it (its Layer tag, or the stack that names it)
    address: str | None = None  # the declared resource it is, where that is known
    import_id: str | None = None  # set when Terraform can adopt it: its identity is deterministic
    also_known_as: frozenset[str] = frozenset()  # other identities a state may hold (its ARN)
    deletion: tuple[DeletionStep, ...] = ()
    details: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def identities(self) -> frozenset[str]:
        return frozenset({self.identity}) | self.also_known_as

    @property
    def adoptable(self) -> bool:
        return self.import_id is not None and self.address is not None


@dataclass(frozen=True)
class Declared:
    """One resource a layer's synthesized stack declares (and does not leave out: `count = 0`)."""

    layer: Layer
    resource_type: str
    name: str
    body: dict[str, Any]

    @property
    def address(self) -> str:
        return f"{self.resource_type}.{self.name}"


class Unresolved(Exception):
    """A value only known once Terraform runs (an attribute the account makes up, a function call)."""


_INTERPOLATION = re.compile(r"\$\{([^{}]+)\}")
# Which literal attribute of a declared resource its Terraform `id` equals.
_ID_ATTRIBUTE = {
    "aws_iam_role": "name", "aws_lambda_function": "function_name", "aws_s3_bucket": "bucket", "aws_cloudwatch_log_group": "name",
    "aws_dynamodb_table": "name", "aws_ssm_parameter": "name", "aws_db_subnet_group": "name", "aws_kms_alias": "name",
    "aws_cloudwatch_event_rule": "name", "aws_rds_cluster": "cluster_identifier", "aws_rds_cluster_instance": "identifier",
    "aws_api_gateway_domain_name": "domain_name", "aws_xray_sampling_rule": "rule_name", "aws_cloudwatch_dashboard": "dashboard_name",
    "aws_cloudwatch_metric_alarm": "alarm_name", "aws_ecs_cluster": "name", "aws_codedeploy_app": "name",
}


@dataclass
class Resolver:
    """Reads the values of one synthesized stack: literals, and the interpolations that are known before
    Terraform runs (the account, the region, another resource's literal name, or what the layer's state holds)."""

    config: dict[str, Any]
    account: Account
    # address -> attributes of what the layer's state holds
    state: dict[str, dict[str, Any]] = field(default_factory=dict)
    # state key -> outputs of every layer's state (what `terraform_remote_state` reads)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # state key -> the resolver of the layer whose state that is (for outputs it does not hold yet)
    producers: dict[str, Resolver] = field(default_factory=dict, repr=False)

    def value(self, body: dict[str, Any], key: str) -> str | None:
        """`body[key]` with every interpolation resolved; None when absent or only known at apply time."""
        try:
            return self.text(body.get(key))
        except Unresolved:
            return None

    def text(self, value: Any, depth: int = 0) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise Unresolved(repr(value))
        if not isinstance(value, str):
            return str(value)
        if depth > 5:
            raise Unresolved(value)
        return _INTERPOLATION.sub(lambda match: self._expression(match.group(1), depth), value)

    def reference(self, body: dict[str, Any], key: str) -> tuple[str, str] | None:
        """(`aws_lb.x`, `arn`) when `body[key]` is exactly one reference to another resource's attribute."""
        value = body.get(key)
        match = re.fullmatch(r"\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}", value) if isinstance(value, str) else None
        return (f"{match.group(1)}.{match.group(2)}", match.group(3)) if match else None

    def declared_body(self, address: str) -> dict[str, Any] | None:
        resource_type, _, name = address.partition(".")
        return self.config.get("resource", {}).get(resource_type, {}).get(name)

    def _expression(self, expression: str, depth: int) -> str:
        parts = expression.split(".")
        if parts[0] == "data" and parts[1] == "terraform_remote_state" and len(parts) == 5 and parts[3] == "outputs":
            # Another layer's output: what that layer's state holds, once it is deployed.
            source = self.config.get("data", {}).get("terraform_remote_state", {}).get(parts[2], {})
            key = str(source.get("config", {}).get("key", ""))
            value = self.outputs.get(key, {}).get(parts[4])
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return str(value)
            # Not deployed (yet): what the producer's stack says the output is, where that is known before it runs.
            producer = self.producers.get(key)
            output = producer.config.get("output", {}).get(parts[4], {}) if producer else {}
            if producer is not None and "value" in output:
                resolved = producer.text(output["value"], depth + 1)
                if resolved is not None:
                    return resolved
            raise Unresolved(expression)
        if parts[0] == "data" and len(parts) == 4:
            _, data_type, _, attribute = parts
            known = {
                ("aws_caller_identity", "account_id"): self.account.account_id,
                ("aws_region", "name"): self.account.region, ("aws_region", "region"): self.account.region,
                ("aws_region", "id"): self.account.region, ("aws_partition", "partition"): self.account.partition,
            }.get((data_type, attribute))
            if known is not None:
                return known
            raise Unresolved(expression)
        if len(parts) != 3 or not re.fullmatch(r"aws_[a-z0-9_]+", parts[0]):
            raise Unresolved(expression)
        resource_type, name, attribute = parts
        body = self.config.get("resource", {}).get(resource_type, {}).get(name)
        if body is not None:
            literal_key = attribute if attribute in body else _ID_ATTRIBUTE.get(resource_type) if attribute == "id" else None
            if literal_key and literal_key in body:
                try:
                    resolved = self.text(body[literal_key], depth + 1)
                except Unresolved:
                    resolved = None
                if resolved is not None:
                    return resolved
        held = self.state.get(f"{resource_type}.{name}", {}).get(attribute)
        if isinstance(held, (str, int)) and not isinstance(held, bool):
            return str(held)
        raise Unresolved(expression)


@dataclass
class Scan:
    """What one search of the account for an environment's resources works from, with its lookups cached."""

    account: Account
    declared: list[Declared]
    resolvers: dict[Layer, Resolver]
    # Declared resources whose identity could not be worked out before Terraform runs, and were not checked.
    unchecked: list[Declared] = field(default_factory=list)
    _cache: dict[Any, Any] = field(default_factory=dict)

    def of_type(self, resource_type: str) -> Iterator[tuple[Declared, Resolver]]:
        for declared in self.declared:
            if declared.resource_type == resource_type:
                yield declared, self.resolvers[declared.layer]

    def once(self, key: Any, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def resolved(self, resource_type: str, *keys: str | Callable[[Declared, Resolver], str | None]) -> Iterator[tuple[Declared, list[str]]]:
        """Each declared resource of the type with the values of `keys` (attributes, or functions of it); one whose
        values are only known once Terraform runs is recorded in `unchecked` instead."""
        for declared, resolve in self.of_type(resource_type):
            values = [key(declared, resolve) if callable(key) else resolve.value(declared.body, key) for key in keys]
            if None in values:
                self.unchecked.append(declared)
                continue
            yield declared, values

    def named(self, resource_type: str, key: str, find: Callable[[str, Declared], LiveResource | None]) -> Iterator[LiveResource]:
        """Each declared resource of the type whose `key` resolves, looked up by that name."""
        for declared, (name,) in self.resolved(resource_type, key):
            found = find(name, declared)
            if found is not None:
                yield found


@dataclass(frozen=True)
class Kind:
    resource_type: str
    find: Callable[[Scan], Iterator[LiveResource]]
    # What a state instance of this type is identified by (the same form `find` gives `identity`).
    state_identity: Callable[[dict[str, Any]], str | None] = lambda attributes: attributes.get("id")
    anonymous: bool = False


# --- helpers -------------------------------------------------------------------------------------


def _code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


def _unless_missing(call: Callable[[], Any], *codes: str) -> Any:
    """`call()`, or None when the service answers one of `codes` (the resource does not exist)."""
    from botocore.exceptions import ClientError

    try:
        return call()
    except ClientError as error:
        if _code(error) in codes:
            return None
        raise


def _tags(items: list[dict[str, Any]] | dict[str, str] | None) -> dict[str, str]:
    if isinstance(items, dict):
        return dict(items)
    return {item.get("Key", item.get("key", "")): item.get("Value", item.get("value", "")) for item in items or []}


def _layer(tags: dict[str, str]) -> Layer | None:
    try:
        return Layer(tags.get(LAYER_TAG, ""))
    except ValueError:
        return None


def _named_resource(scan: Scan, declared: Declared, identity: str, *, import_id: str | None = None, label: str | None = None,
                    also: tuple[str | None, ...] = (), details: dict[str, str] | None = None,
                    deletion: tuple[DeletionStep, ...] = ()) -> LiveResource:
    return LiveResource(
        resource_type=declared.resource_type, identity=identity, label=label or identity, layer=declared.layer,
        address=declared.address, import_id=import_id if import_id is not None else identity,
        also_known_as=frozenset(alias for alias in also if alias), details=details or {}, deletion=deletion,
    )


def _cli(account: Account, command: str) -> str:
    return f"aws {command}{account.cli_options}"


# --- named: found by the name the stack gives them ------------------------------------------------


def _buckets(scan: Scan) -> Iterator[LiveResource]:
    s3 = scan.account.client("s3")

    def find(name: str, declared: Declared) -> LiveResource | None:
        # 403: the name is taken by another account (bucket names are global): not this environment's.
        if _unless_missing(lambda: s3.head_bucket(Bucket=name), "404", "NoSuchBucket", "NotFound", "403", "AccessDenied") is None:
            return None
        return _named_resource(scan, declared, name, also=(f"arn:{scan.account.partition}:s3:::{name}",))

    yield from scan.named("aws_s3_bucket", "bucket", find)


def _kms_aliases(scan: Scan) -> Iterator[LiveResource]:
    def all_aliases() -> dict[str, dict[str, Any]]:
        pages = scan.account.client("kms").get_paginator("list_aliases").paginate()
        return {alias["AliasName"]: alias for page in pages for alias in page["Aliases"]}

    def find(name: str, declared: Declared) -> LiveResource | None:
        alias = scan.once("kms-aliases", all_aliases).get(name)
        if alias is None:
            return None
        return _named_resource(scan, declared, name, also=(alias.get("AliasArn"),), details={"target_key_id": alias.get("TargetKeyId", "")})

    yield from scan.named("aws_kms_alias", "name", find)


def _log_groups(scan: Scan) -> Iterator[LiveResource]:
    logs = scan.account.client("logs")

    def with_prefix(prefix: str) -> list[dict[str, Any]]:
        return [group for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix) for group in page["logGroups"]]

    for declared, resolve in scan.of_type("aws_cloudwatch_log_group"):
        name = resolve.value(declared.body, "name")
        if name is not None:
            group = next((group for group in with_prefix(name) if group["logGroupName"] == name), None)
            if group is not None:
                yield _named_resource(scan, declared, name, also=(group.get("arn", "").removesuffix(":*"),))
            continue
        # A name with a part only known at apply time (an API's id): found by the rest of it. Its
        # name cannot be the next apply's, so it can only be deleted.
        pattern = _pattern(declared.body.get("name"))
        if pattern is None:
            scan.unchecked.append(declared)
            continue
        prefix, matcher = pattern
        for group in with_prefix(prefix):
            if matcher.fullmatch(group["logGroupName"]):
                yield _log_group_to_delete(scan.account, declared, group)


def _pattern(template: Any) -> tuple[str, re.Pattern[str]] | None:
    """The literal prefix of a name with interpolations, and a pattern the whole name matches."""
    if not isinstance(template, str):
        return None
    pieces = _INTERPOLATION.split(template)
    literals = pieces[0::2]
    if not literals[0]:
        return None
    return literals[0], re.compile(".+".join(re.escape(literal) for literal in literals))


def _log_group_to_delete(account: Account, declared: Declared, group: dict[str, Any]) -> LiveResource:
    name = group["logGroupName"]
    logs = account.client("logs")
    return LiveResource(
        resource_type=declared.resource_type, identity=name, label=name, layer=declared.layer, address=declared.address,
        also_known_as=frozenset({group.get("arn", "").removesuffix(":*")} - {""}),
        deletion=(DeletionStep(130, _cli(account, f"logs delete-log-group --log-group-name {name}"), lambda: logs.delete_log_group(logGroupName=name)),),
    )


def _simple(resource_type: str, key: str, lookup: Callable[[Scan, str], tuple[str, tuple[str | None, ...]] | None],
            import_id: Callable[[str], str] | None = None) -> Callable[[Scan], Iterator[LiveResource]]:
    """A named kind whose lookup by name gives (identity, other identities), or None when it does not exist."""

    def find_all(scan: Scan) -> Iterator[LiveResource]:
        def find(name: str, declared: Declared) -> LiveResource | None:
            found = lookup(scan, name)
            if found is None:
                return None
            identity, also = found
            return _named_resource(scan, declared, identity, import_id=import_id(identity) if import_id else identity, label=name, also=also)

        yield from scan.named(resource_type, key, find)

    return find_all


def _db_subnet_group(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    found = _unless_missing(lambda: scan.account.client("rds").describe_db_subnet_groups(DBSubnetGroupName=name), "DBSubnetGroupNotFoundFault")
    return (name, (found["DBSubnetGroups"][0].get("DBSubnetGroupArn"),)) if found else None


def _rds_cluster(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    found = _unless_missing(lambda: scan.account.client("rds").describe_db_clusters(DBClusterIdentifier=name), "DBClusterNotFoundFault")
    clusters = [cluster for cluster in (found or {}).get("DBClusters", []) if cluster.get("Status") != "deleting"]
    return (name, (clusters[0].get("DBClusterArn"),)) if clusters else None


def _rds_instance(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    found = _unless_missing(lambda: scan.account.client("rds").describe_db_instances(DBInstanceIdentifier=name), "DBInstanceNotFound", "DBInstanceNotFoundFault")
    instances = [instance for instance in (found or {}).get("DBInstances", []) if instance.get("DBInstanceStatus") != "deleting"]
    return (name, (instances[0].get("DBInstanceArn"),)) if instances else None


def _dynamodb_table(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    found = _unless_missing(lambda: scan.account.client("dynamodb").describe_table(TableName=name), "ResourceNotFoundException")
    if not found or found["Table"].get("TableStatus") == "DELETING":
        return None
    return name, (found["Table"].get("TableArn"),)


def _iam_role(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    found = _unless_missing(lambda: scan.account.client("iam").get_role(RoleName=name), "NoSuchEntity")
    return (name, (found["Role"]["Arn"],)) if found else None


def _lambda_function(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    found = _unless_missing(lambda: scan.account.client("lambda").get_function(FunctionName=name), "ResourceNotFoundException")
    return (name, (found["Configuration"]["FunctionArn"],)) if found else None


def _ssm_parameter(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    found = _unless_missing(lambda: scan.account.client("ssm").get_parameter(Name=name), "ParameterNotFound")
    return (name, (found["Parameter"].get("ARN"),)) if found else None


def _secret(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    found = _unless_missing(lambda: scan.account.client("secretsmanager").describe_secret(SecretId=name), "ResourceNotFoundException")
    # A secret scheduled for deletion (a prod teardown keeps one restorable) is not adoptable: its
    # recovery window is what to act on (docs/lifecycle.md, "Restoring after a prod teardown").
    if not found or found.get("DeletedDate"):
        return None
    return found["ARN"], (name,)


def _sns_topic(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    arn = f"arn:{scan.account.partition}:sns:{scan.account.region}:{scan.account.account_id}:{name}"
    found = _unless_missing(lambda: scan.account.client("sns").get_topic_attributes(TopicArn=arn), "NotFound", "NotFoundException")
    return (arn, ()) if found else None


def _sqs_queue(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    found = _unless_missing(
        lambda: scan.account.client("sqs").get_queue_url(QueueName=name), "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist",
    )
    if not found:
        return None
    arn = f"arn:{scan.account.partition}:sqs:{scan.account.region}:{scan.account.account_id}:{name}"
    return found["QueueUrl"], (arn,)


def _event_rule(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    found = _unless_missing(lambda: scan.account.client("events").describe_rule(Name=name), "ResourceNotFoundException")
    return (name, (found.get("Arn"),)) if found else None


def _alarm(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    alarms = scan.account.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return (name, (alarms[0].get("AlarmArn"),)) if alarms else None


def _dashboard(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    found = _unless_missing(lambda: scan.account.client("cloudwatch").get_dashboard(DashboardName=name), "ResourceNotFound", "ResourceNotFoundException")
    return (name, (found.get("DashboardArn"),)) if found else None


def _codedeploy_app(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    found = _unless_missing(lambda: scan.account.client("codedeploy").get_application(applicationName=name), "ApplicationDoesNotExistException")
    return (name, ()) if found else None


def _ecs_cluster(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    clusters = scan.account.client("ecs").describe_clusters(clusters=[name])["clusters"]
    active = [cluster for cluster in clusters if cluster.get("status") == "ACTIVE"]
    return (active[0]["clusterArn"], (name,)) if active else None


def _load_balancer(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    found = _unless_missing(lambda: scan.account.client("elbv2").describe_load_balancers(Names=[name]), "LoadBalancerNotFound")
    return (found["LoadBalancers"][0]["LoadBalancerArn"], ()) if found and found["LoadBalancers"] else None


def _target_group(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    found = _unless_missing(lambda: scan.account.client("elbv2").describe_target_groups(Names=[name]), "TargetGroupNotFound")
    return (found["TargetGroups"][0]["TargetGroupArn"], ()) if found and found["TargetGroups"] else None


def _sampling_rule(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    def all_rules() -> dict[str, dict[str, Any]]:
        pages = scan.account.client("xray").get_paginator("get_sampling_rules").paginate()
        return {record["SamplingRule"]["RuleName"]: record["SamplingRule"] for page in pages for record in page["SamplingRuleRecords"]}

    rule = scan.once("xray-sampling-rules", all_rules).get(name)
    return (name, (rule.get("RuleARN"),)) if rule else None


def _xray_group(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    def all_groups() -> dict[str, dict[str, Any]]:
        pages = scan.account.client("xray").get_paginator("get_groups").paginate()
        return {group["GroupName"]: group for page in pages for group in page["Groups"]}

    group = scan.once("xray-groups", all_groups).get(name)
    return (group["GroupARN"], ()) if group else None


def _domain_name(scan: Scan, name: str) -> tuple[str, tuple[str | None, ...]] | None:
    found = _unless_missing(lambda: scan.account.client("apigateway").get_domain_name(domainName=name), "NotFoundException")
    return (name, ()) if found else None


def _parameter_groups(scan: Scan) -> Iterator[LiveResource]:
    """By name, or by `name_prefix` (Terraform appends a unique suffix): more than one match cannot be adopted (see orphans)."""
    rds = scan.account.client("rds")

    def all_groups() -> list[dict[str, Any]]:
        pages = rds.get_paginator("describe_db_cluster_parameter_groups").paginate()
        return [group for page in pages for group in page["DBClusterParameterGroups"]]

    for declared, resolve in scan.of_type("aws_rds_cluster_parameter_group"):
        name, prefix = resolve.value(declared.body, "name"), resolve.value(declared.body, "name_prefix")
        if name is None and prefix is None:
            scan.unchecked.append(declared)
            continue
        for group in scan.once("rds-cluster-parameter-groups", all_groups):
            found = group["DBClusterParameterGroupName"]
            if found == name or (name is None and prefix is not None and found.startswith(prefix)):
                command = f"rds delete-db-cluster-parameter-group --db-cluster-parameter-group-name {found}"
                step = DeletionStep(130, _cli(scan.account, command), lambda found=found: rds.delete_db_cluster_parameter_group(DBClusterParameterGroupName=found))
                yield _named_resource(scan, declared, found, also=(group.get("DBClusterParameterGroupArn"),), deletion=(step,))


def _lambda_permissions(scan: Scan) -> Iterator[LiveResource]:
    client = scan.account.client("lambda")

    def statements(function: str) -> set[str]:
        found = _unless_missing(lambda: client.get_policy(FunctionName=function), "ResourceNotFoundException")
        return {statement.get("Sid", "") for statement in json.loads(found["Policy"]).get("Statement", [])} if found else set()

    for declared, (function, statement) in scan.resolved("aws_lambda_permission", "function_name", "statement_id"):
        if statement in scan.once(("lambda-policy", function), lambda function=function: statements(function)):
            yield _named_resource(scan, declared, f"{function}/{statement}")


def _parent_name(key: str, parent_key: str) -> Callable[[Declared, Resolver], str | None]:
    """The name of the resource `key` refers to (`cluster = aws_ecs_cluster.x.arn` -> x's `name`), or `key`'s own value."""

    def value(declared: Declared, resolve: Resolver) -> str | None:
        reference = resolve.reference(declared.body, key)
        if reference is None:
            return resolve.value(declared.body, key)
        parent = resolve.declared_body(reference[0])
        return resolve.value(parent, parent_key) if parent is not None else None

    return value


def _deployment_groups(scan: Scan) -> Iterator[LiveResource]:
    codedeploy = scan.account.client("codedeploy")
    application_name = _parent_name("app_name", "name")
    for declared, (application, group) in scan.resolved("aws_codedeploy_deployment_group", application_name, "deployment_group_name"):
        found = _unless_missing(
            lambda: codedeploy.get_deployment_group(applicationName=application, deploymentGroupName=group),
            "DeploymentGroupDoesNotExistException", "ApplicationDoesNotExistException",
        )
        if found:
            yield _named_resource(scan, declared, f"{application}:{group}")


def _ecs_services(scan: Scan) -> Iterator[LiveResource]:
    ecs = scan.account.client("ecs")
    for declared, (cluster, name) in scan.resolved("aws_ecs_service", _parent_name("cluster", "name"), "name"):
        found = _unless_missing(lambda: ecs.describe_services(cluster=cluster, services=[name]), "ClusterNotFoundException")
        for service in (found or {}).get("services", []):
            if service.get("status") == "ACTIVE":
                yield _named_resource(scan, declared, service["serviceArn"], import_id=f"{cluster}/{name}", label=f"{cluster}/{name}")


def _load_balancer_arn(scan: Scan, resolve: Resolver, body: dict[str, Any]) -> str | None:
    reference = resolve.reference(body, "load_balancer_arn")
    balancer = resolve.declared_body(reference[0]) if reference else None
    name = resolve.value(balancer, "name") if balancer is not None else None
    found = _load_balancer(scan, name) if name else None
    return found[0] if found else None


def _listeners(scan: Scan) -> Iterator[LiveResource]:
    """A load balancer's listener, by its port: adopted with its load balancer (a second one on the port is refused)."""
    elbv2 = scan.account.client("elbv2")
    for declared, (port,) in scan.resolved("aws_lb_listener", "port"):
        balancer = _load_balancer_arn(scan, scan.resolvers[declared.layer], declared.body)
        if balancer is None:
            continue
        listeners = scan.once(("listeners", balancer), lambda: elbv2.describe_listeners(LoadBalancerArn=balancer)["Listeners"])
        for listener in listeners:
            if str(listener.get("Port")) == port:
                yield _named_resource(scan, declared, listener["ListenerArn"], label=f"port {port} of {balancer}")


def _listener_rules(scan: Scan) -> Iterator[LiveResource]:
    """A listener's rule, by its priority (a second one at that priority is refused)."""
    elbv2 = scan.account.client("elbv2")
    for declared, resolve in scan.of_type("aws_lb_listener_rule"):
        priority = resolve.value(declared.body, "priority")
        reference = resolve.reference(declared.body, "listener_arn")
        listener_body = resolve.declared_body(reference[0]) if reference else None
        if priority is None or listener_body is None:
            scan.unchecked.append(declared)
            continue
        port, balancer = resolve.value(listener_body, "port"), _load_balancer_arn(scan, resolve, listener_body)
        if balancer is None:
            continue
        listeners = scan.once(("listeners", balancer), lambda: elbv2.describe_listeners(LoadBalancerArn=balancer)["Listeners"])
        for listener in (listener for listener in listeners if str(listener.get("Port")) == port):
            for rule in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
                if rule.get("Priority") == priority:
                    yield _named_resource(scan, declared, rule["RuleArn"], label=f"priority {priority} of {listener['ListenerArn']}")


def _scalable_targets(scan: Scan) -> Iterator[LiveResource]:
    autoscaling = scan.account.client("application-autoscaling")
    for declared, (namespace, resource_id, dimension) in scan.resolved("aws_appautoscaling_target", "service_namespace", "resource_id", "scalable_dimension"):
        found = autoscaling.describe_scalable_targets(ServiceNamespace=namespace, ResourceIds=[resource_id], ScalableDimension=dimension)
        for target in found["ScalableTargets"]:
            yield _named_resource(scan, declared, resource_id, import_id=f"{namespace}/{resource_id}/{dimension}", also=(target.get("ScalableTargetARN"),))


def _web_acls(scan: Scan) -> Iterator[LiveResource]:
    wafv2 = scan.account.client("wafv2")
    for declared, (name, scope) in scan.resolved("aws_wafv2_web_acl", "name", "scope"):
        for acl in scan.once(("web-acls", scope), lambda scope=scope: wafv2.list_web_acls(Scope=scope)["WebACLs"]):
            if acl["Name"] == name:
                yield _named_resource(scan, declared, acl["Id"], import_id=f"{acl['Id']}/{name}/{scope}", label=name, also=(acl.get("ARN"),))


def _base_path_mappings(scan: Scan) -> Iterator[LiveResource]:
    apigateway = scan.account.client("apigateway")
    for declared, (domain,) in scan.resolved("aws_api_gateway_base_path_mapping", "domain_name"):
        base_path = scan.resolvers[declared.layer].value(declared.body, "base_path") or ""
        found = _unless_missing(lambda: apigateway.get_base_path_mapping(domainName=domain, basePath=base_path or "(none)"), "NotFoundException")
        if found:
            yield _named_resource(scan, declared, f"{domain}/{base_path}")


def _zone_id(scan: Scan, resolve: Resolver, body: dict[str, Any]) -> str | None:
    """The hosted zone a record is in: a literal id, or the zone a `data.aws_route53_zone` names."""
    value = body.get("zone_id")
    match = re.fullmatch(r"\$\{data\.aws_route53_zone\.([A-Za-z0-9_-]+)\.zone_id\}", value) if isinstance(value, str) else None
    if match is None:
        return resolve.value(body, "zone_id")
    zone = resolve.config.get("data", {}).get("aws_route53_zone", {}).get(match.group(1), {})
    zone_name = resolve.value(zone, "name")
    if zone_name is None:
        return None

    def lookup() -> str | None:
        zones = scan.account.client("route53").list_hosted_zones_by_name(DNSName=zone_name)["HostedZones"]
        wanted = zone_name.rstrip(".") + "."
        private = bool(zone.get("private_zone", False))
        found = [z for z in zones if z["Name"] == wanted and bool(z.get("Config", {}).get("PrivateZone")) == private]
        return found[0]["Id"].split("/")[-1] if found else None

    return scan.once(("zone", zone_name), lookup)


def _record_identity(zone_id: str, name: str, record_type: str) -> str:
    return f"{zone_id}_{name.rstrip('.').lower()}_{record_type}"


def _records(scan: Scan) -> Iterator[LiveResource]:
    """Records under the environment's own domain names (its certificates', its API's), in the zones its records use.

    A record whose name and type are literal is adopted; one named after an apply-time value (a
    certificate's validation record, `allow_overwrite`) is listed with its delete command."""
    route53 = scan.account.client("route53")
    domains: set[str] = set()
    for resource_type, keys in (("aws_acm_certificate", ("domain_name",)), ("aws_api_gateway_domain_name", ("domain_name",))):
        for declared, resolve in scan.of_type(resource_type):
            domains.update(value.lstrip("*.").rstrip(".").lower() for key in keys if (value := resolve.value(declared.body, key)))
    by_zone: dict[str, list[tuple[Declared, str | None, str | None]]] = {}
    for declared, resolve in scan.of_type("aws_route53_record"):
        zone = _zone_id(scan, resolve, declared.body)
        if zone is None:
            scan.unchecked.append(declared)
            continue
        name, record_type = resolve.value(declared.body, "name"), resolve.value(declared.body, "type")
        if name:
            domains.add(name.rstrip(".").lower())
        by_zone.setdefault(zone, []).append((declared, name, record_type))
    for zone, records in by_zone.items():
        pages = route53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone)
        for record in (record for page in pages for record in page["ResourceRecordSets"]):
            name = record["Name"].rstrip(".").lower()
            if record["Type"] in ("NS", "SOA") or not any(name == domain or name.endswith("." + domain) for domain in domains):
                continue
            identity = _record_identity(zone, name, record["Type"])
            literal = next((declared for declared, declared_name, declared_type in records
                            if declared_name and declared_name.rstrip(".").lower() == name and declared_type == record["Type"]), None)
            if literal is not None:
                yield _named_resource(scan, literal, identity, label=f"{name} {record['Type']}")
                continue
            candidates = [declared for declared, declared_name, _ in records if declared_name is None]
            change = json.dumps({"Changes": [{"Action": "DELETE", "ResourceRecordSet": record}]}, separators=(",", ":"))
            command = f"route53 change-resource-record-sets --hosted-zone-id {zone} --change-batch '{change}'"
            yield LiveResource(
                resource_type="aws_route53_record", identity=identity, label=f"{name} {record['Type']}",
                layer=candidates[0].layer if len(candidates) == 1 else None,
                address=candidates[0].address if len(candidates) == 1 else None,
                deletion=(DeletionStep(130, _cli(scan.account, command), lambda zone=zone, change=change: route53.change_resource_record_sets(
                    HostedZoneId=zone, ChangeBatch=json.loads(change))),),
            )


# --- anonymous: found by the environment's tags, deleted ------------------------------------------


def _anonymous(scan: Scan, resource_type: str, identity: str, tags: dict[str, str], steps: list[tuple[int, str, Callable[[], None]]],
               also: tuple[str | None, ...] = (), label: str | None = None, details: dict[str, str] | None = None) -> LiveResource:
    """An anonymous resource; the declared one with the same Name tag is named as what it is, where there is one."""
    layer = _layer(tags)
    address = None
    if tags.get(NAME_TAG):
        matches = [declared.address for declared, _ in scan.of_type(resource_type)
                   if declared.layer is layer and (declared.body.get("tags") or {}).get(NAME_TAG) == tags[NAME_TAG]]
        address = matches[0] if len(matches) == 1 else None
    return LiveResource(
        resource_type=resource_type, identity=identity, label=label or (f"{identity} ({tags[NAME_TAG]})" if tags.get(NAME_TAG) else identity),
        layer=layer, address=address, also_known_as=frozenset(alias for alias in also if alias), details=details or {},
        deletion=tuple(DeletionStep(order, _cli(scan.account, command), run) for order, command, run in steps),
    )


def _ec2_arn(account: Account, kind: str, identity: str) -> str:
    return f"arn:{account.partition}:ec2:{account.region}:{account.account_id}:{kind}/{identity}"


def _ec2(scan: Scan, call: str, key: str, *, filters_key: str = "Filters") -> list[dict[str, Any]]:
    ec2 = scan.account.client("ec2")
    pages = ec2.get_paginator(call).paginate(**{filters_key: scan.account.tag_filters})
    return [item for page in pages for item in page[key]]


def _ec2_kind(resource_type: str, call: str, key: str, id_key: str, arn_kind: str, order: int, command: str,
              delete: Callable[[Any, str], Any], live: Callable[[dict[str, Any]], bool] = lambda item: True) -> Callable[[Scan], Iterator[LiveResource]]:
    """An EC2 resource found by the environment's tags and deleted by one call (`command` is its aws CLI form, `{}` the id)."""

    def find(scan: Scan) -> Iterator[LiveResource]:
        ec2 = scan.account.client("ec2")
        for item in (item for item in _ec2(scan, call, key) if live(item)):
            identity = item[id_key]
            yield _anonymous(scan, resource_type, identity, _tags(item.get("Tags")),
                             [(order, command.format(identity), lambda identity=identity: delete(ec2, identity))],
                             also=(_ec2_arn(scan.account, arn_kind, identity),))

    return find


def _internet_gateways(scan: Scan) -> Iterator[LiveResource]:
    ec2 = scan.account.client("ec2")
    for gateway in _ec2(scan, "describe_internet_gateways", "InternetGateways"):
        identity = gateway["InternetGatewayId"]
        steps: list[tuple[int, str, Callable[[], None]]] = [
            (50, f"ec2 detach-internet-gateway --internet-gateway-id {identity} --vpc-id {vpc}",
             lambda identity=identity, vpc=vpc: ec2.detach_internet_gateway(InternetGatewayId=identity, VpcId=vpc))
            for vpc in (attachment["VpcId"] for attachment in gateway.get("Attachments", []))
        ]
        steps.append((51, f"ec2 delete-internet-gateway --internet-gateway-id {identity}", lambda identity=identity: ec2.delete_internet_gateway(InternetGatewayId=identity)))
        yield _anonymous(scan, "aws_internet_gateway", identity, _tags(gateway.get("Tags")), steps, also=(_ec2_arn(scan.account, "internet-gateway", identity),))


def _nat_gateways(scan: Scan) -> Iterator[LiveResource]:
    ec2 = scan.account.client("ec2")

    def wait(identity: str) -> None:
        # Its Elastic IP and subnet are released only once it is gone (about a minute on AWS).
        ec2.get_waiter("nat_gateway_deleted").wait(NatGatewayIds=[identity], WaiterConfig=NAT_GATEWAY_DELETE_WAIT)

    for gateway in _ec2(scan, "describe_nat_gateways", "NatGateways", filters_key="Filter"):
        if gateway.get("State") in ("deleted", "deleting"):
            continue
        identity = gateway["NatGatewayId"]
        steps = [(30, f"ec2 delete-nat-gateway --nat-gateway-id {identity}", lambda identity=identity: ec2.delete_nat_gateway(NatGatewayId=identity)),
                 (31, f"ec2 wait nat-gateway-deleted --nat-gateway-ids {identity}", lambda identity=identity: wait(identity))]
        yield _anonymous(scan, "aws_nat_gateway", identity, _tags(gateway.get("Tags")), steps, also=(_ec2_arn(scan.account, "natgateway", identity),))


def _elastic_ips(scan: Scan) -> Iterator[LiveResource]:
    ec2 = scan.account.client("ec2")
    for address in scan.account.client("ec2").describe_addresses(Filters=scan.account.tag_filters)["Addresses"]:
        identity = address.get("AllocationId", "")
        steps = [(40, f"ec2 release-address --allocation-id {identity}", lambda identity=identity: ec2.release_address(AllocationId=identity))]
        yield _anonymous(scan, "aws_eip", identity, _tags(address.get("Tags")), steps, also=(_ec2_arn(scan.account, "elastic-ip", identity),),
                         label=f"{identity} {address.get('PublicIp', '')} ({_tags(address.get('Tags')).get(NAME_TAG, '')})")


def _route_tables(scan: Scan) -> Iterator[LiveResource]:
    ec2 = scan.account.client("ec2")
    for table in _ec2(scan, "describe_route_tables", "RouteTables"):
        identity = table["RouteTableId"]
        associations = table.get("Associations", [])
        if any(association.get("Main") for association in associations):
            continue  # a VPC's main table goes with its VPC
        steps: list[tuple[int, str, Callable[[], None]]] = [
            (65, f"ec2 disassociate-route-table --association-id {association_id}",
             lambda association_id=association_id: ec2.disassociate_route_table(AssociationId=association_id))
            for association_id in (association["RouteTableAssociationId"] for association in associations if association.get("SubnetId"))
        ]
        steps.append((80, f"ec2 delete-route-table --route-table-id {identity}", lambda identity=identity: ec2.delete_route_table(RouteTableId=identity)))
        yield _anonymous(scan, "aws_route_table", identity, _tags(table.get("Tags")), steps, also=(_ec2_arn(scan.account, "route-table", identity),))


def _security_groups(scan: Scan) -> Iterator[LiveResource]:
    """Named, but within a VPC the account names: as anonymous as their VPC. A group's rules that
    reference other groups are revoked before any group goes: a referenced group cannot be deleted."""
    ec2 = scan.account.client("ec2")
    groups = [group for group in _ec2(scan, "describe_security_groups", "SecurityGroups") if group.get("GroupName") != "default"]
    rules: list[dict[str, Any]] = []
    if groups:
        pages = ec2.get_paginator("describe_security_group_rules").paginate(Filters=[{"Name": "group-id", "Values": [group["GroupId"] for group in groups]}])
        rules = [rule for page in pages for rule in page["SecurityGroupRules"]]
    for group in groups:  # a VPC's default group goes with its VPC
        identity = group["GroupId"]
        steps: list[tuple[int, str, Callable[[], None]]] = []
        for egress, revoke in ((False, ec2.revoke_security_group_ingress), (True, ec2.revoke_security_group_egress)):
            # Only a rule that references another group keeps that group from being deleted.
            for rule in (rule for rule in rules if rule["GroupId"] == identity and rule.get("IsEgress", False) is egress and rule.get("ReferencedGroupInfo")):
                command = f"ec2 revoke-security-group-{'egress' if egress else 'ingress'} --group-id {identity} --security-group-rule-ids {rule['SecurityGroupRuleId']}"
                steps.append((55, command, lambda identity=identity, rule=rule["SecurityGroupRuleId"], revoke=revoke: _revoke_if_there(ec2, revoke, identity, rule)))
        steps.append((60, f"ec2 delete-security-group --group-id {identity}", lambda identity=identity: ec2.delete_security_group(GroupId=identity)))
        yield _anonymous(scan, "aws_security_group", identity, _tags(group.get("Tags")), steps, also=(_ec2_arn(scan.account, "security-group", identity),),
                         details={"vpc_id": group.get("VpcId", "")})


def _security_group_rules(egress: bool) -> Callable[[Scan], Iterator[LiveResource]]:
    resource_type = f"aws_vpc_security_group_{'egress' if egress else 'ingress'}_rule"

    def find(scan: Scan) -> Iterator[LiveResource]:
        ec2 = scan.account.client("ec2")
        rules = scan.once("security-group-rules", lambda: _ec2(scan, "describe_security_group_rules", "SecurityGroupRules"))
        for rule in (rule for rule in rules if rule.get("IsEgress", False) is egress):
            identity, group = rule["SecurityGroupRuleId"], rule["GroupId"]
            revoke = ec2.revoke_security_group_egress if egress else ec2.revoke_security_group_ingress
            command = f"ec2 revoke-security-group-{'egress' if egress else 'ingress'} --group-id {group} --security-group-rule-ids {identity}"
            yield _anonymous(scan, resource_type, identity, _tags(rule.get("Tags")),
                             [(54, command, lambda identity=identity, group=group, revoke=revoke: _revoke_if_there(ec2, revoke, group, identity))],
                             also=(_ec2_arn(scan.account, "security-group-rule", identity),), label=f"{identity} of {group}", details={"group_id": group})

    return find


def _revoke_if_there(ec2: Any, revoke: Callable[..., Any], group: str, rule: str) -> None:
    found = ec2.describe_security_group_rules(Filters=[{"Name": "security-group-rule-id", "Values": [rule]}])["SecurityGroupRules"]
    if found:
        revoke(GroupId=group, SecurityGroupRuleIds=[rule])


def _kms_keys(scan: Scan) -> Iterator[LiveResource]:
    """Anonymous, but adopted with the alias that names it where that alias is an orphan too (see orphans)."""
    kms = scan.account.client("kms")
    tagging = scan.account.client("resourcegroupstaggingapi")
    pages = tagging.get_paginator("get_resources").paginate(
        ResourceTypeFilters=["kms:key"],
        TagFilters=[{"Key": ENVIRONMENT_TAG, "Values": [scan.account.environment]}, {"Key": PROJECT_TAG, "Values": [scan.account.project]}],
    )
    for mapping in (mapping for page in pages for mapping in page["ResourceTagMappingList"]):
        arn, tags = mapping["ResourceARN"], _tags(mapping.get("Tags"))
        if not scan.account.owns(tags):
            continue
        metadata = _unless_missing(lambda arn=arn: kms.describe_key(KeyId=arn), "NotFoundException")
        # The tagging index lists a deleted key for a while; a key pending deletion is on its way out.
        if metadata is None or metadata["KeyMetadata"].get("KeyState") in ("PendingDeletion", "PendingReplicaDeletion"):
            continue
        identity = metadata["KeyMetadata"]["KeyId"]
        command = f"kms schedule-key-deletion --key-id {identity} --pending-window-in-days {KEY_DELETION_WINDOW_DAYS}"
        yield _anonymous(scan, "aws_kms_key", identity, tags,
                         [(140, command, lambda identity=identity: kms.schedule_key_deletion(KeyId=identity, PendingWindowInDays=KEY_DELETION_WINDOW_DAYS))],
                         also=(arn,), label=f"{identity} ({metadata['KeyMetadata'].get('Description', '')})")


def _certificates(scan: Scan) -> Iterator[LiveResource]:
    """Found by the domain a declared certificate is for, and kept only when tagged for the environment."""
    acm = scan.account.client("acm")
    domains = {domain: declared for declared, (domain,) in scan.resolved("aws_acm_certificate", "domain_name")}
    if not domains:
        return
    pages = acm.get_paginator("list_certificates").paginate()
    for summary in (summary for page in pages for summary in page["CertificateSummaryList"] if summary.get("DomainName") in domains):
        arn = summary["CertificateArn"]
        tags = _tags(acm.list_tags_for_certificate(CertificateArn=arn).get("Tags"))
        if scan.account.owns(tags):
            yield _anonymous(scan, "aws_acm_certificate", arn, tags,
                             [(120, f"acm delete-certificate --certificate-arn {arn}", lambda arn=arn: acm.delete_certificate(CertificateArn=arn))],
                             label=f"{arn} ({summary['DomainName']})")


def _api_gateway(resource_type: str, call: str, order: int, delete_command: str, delete: Callable[[Any, str], None]) -> Callable[[Scan], Iterator[LiveResource]]:
    """API Gateway's REST APIs, API keys, usage plans and VPC links: names need not be unique, so only their tags say whose they are."""

    def find(scan: Scan) -> Iterator[LiveResource]:
        apigateway = scan.account.client("apigateway")
        pages = apigateway.get_paginator(call).paginate()
        for item in (item for page in pages for item in page.get("items", [])):
            tags = _tags(item.get("tags"))
            if scan.account.owns(tags):
                identity = item["id"]
                yield _anonymous(scan, resource_type, identity, tags,
                                 [(order, delete_command.format(identity), lambda identity=identity: delete(apigateway, identity))],
                                 label=f"{identity} ({item.get('name', '')})")

    return find


def _delete_usage_plan(apigateway: Any, identity: str) -> None:
    # A plan still attached to API stages cannot be deleted.
    stages = apigateway.get_usage_plan(usagePlanId=identity).get("apiStages", [])
    if stages:
        apigateway.update_usage_plan(usagePlanId=identity, patchOperations=[
            {"op": "remove", "path": "/apiStages", "value": f"{stage['apiId']}:{stage['stage']}"} for stage in stages
        ])
    apigateway.delete_usage_plan(usagePlanId=identity)


def _task_definitions(scan: Scan) -> Iterator[LiveResource]:
    """Revisions of a declared family: each registration makes a new one, so a leaked one is deregistered, never adopted."""
    ecs = scan.account.client("ecs")
    for declared, (family,) in scan.resolved("aws_ecs_task_definition", "family"):
        pages = ecs.get_paginator("list_task_definitions").paginate(familyPrefix=family, status="ACTIVE")
        for arn in (arn for page in pages for arn in page["taskDefinitionArns"]):
            if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] != family:
                continue
            yield LiveResource(
                resource_type="aws_ecs_task_definition", identity=arn, label=arn.rsplit("/", 1)[-1], layer=declared.layer, address=declared.address,
                deletion=(DeletionStep(130, _cli(scan.account, f"ecs deregister-task-definition --task-definition {arn}"),
                                       lambda arn=arn: ecs.deregister_task_definition(taskDefinition=arn)),),
            )


# --- the catalogue ---------------------------------------------------------------------------------


def _attribute(key: str) -> Callable[[dict[str, Any]], str | None]:
    return lambda attributes: attributes.get(key)


def _joined(*keys: str, separator: str) -> Callable[[dict[str, Any]], str | None]:
    def identity(attributes: dict[str, Any]) -> str | None:
        values = [attributes.get(key) for key in keys]
        return separator.join(str(value) for value in values) if all(value is not None for value in values) else None

    return identity


def _record_state_identity(attributes: dict[str, Any]) -> str | None:
    if not all(attributes.get(key) for key in ("zone_id", "name", "type")):
        return None
    return _record_identity(attributes["zone_id"], attributes["name"], attributes["type"])


NAMED_KINDS: dict[str, Kind] = {kind.resource_type: kind for kind in (
    Kind("aws_s3_bucket", _buckets),
    Kind("aws_kms_alias", _kms_aliases),
    Kind("aws_cloudwatch_log_group", _log_groups),
    Kind("aws_db_subnet_group", _simple("aws_db_subnet_group", "name", _db_subnet_group)),
    Kind("aws_rds_cluster_parameter_group", _parameter_groups),
    Kind("aws_rds_cluster", _simple("aws_rds_cluster", "cluster_identifier", _rds_cluster)),
    Kind("aws_rds_cluster_instance", _simple("aws_rds_cluster_instance", "identifier", _rds_instance)),
    Kind("aws_dynamodb_table", _simple("aws_dynamodb_table", "name", _dynamodb_table)),
    Kind("aws_iam_role", _simple("aws_iam_role", "name", _iam_role)),
    Kind("aws_lambda_function", _simple("aws_lambda_function", "function_name", _lambda_function)),
    Kind("aws_lambda_permission", _lambda_permissions, _joined("function_name", "statement_id", separator="/")),
    Kind("aws_secretsmanager_secret", _simple("aws_secretsmanager_secret", "name", _secret)),
    Kind("aws_ssm_parameter", _simple("aws_ssm_parameter", "name", _ssm_parameter)),
    Kind("aws_sns_topic", _simple("aws_sns_topic", "name", _sns_topic)),
    Kind("aws_sqs_queue", _simple("aws_sqs_queue", "name", _sqs_queue)),
    Kind("aws_cloudwatch_event_rule", _simple("aws_cloudwatch_event_rule", "name", _event_rule)),
    Kind("aws_cloudwatch_metric_alarm", _simple("aws_cloudwatch_metric_alarm", "alarm_name", _alarm)),
    Kind("aws_cloudwatch_dashboard", _simple("aws_cloudwatch_dashboard", "dashboard_name", _dashboard)),
    Kind("aws_codedeploy_app", _simple("aws_codedeploy_app", "name", _codedeploy_app), _attribute("name")),
    Kind("aws_codedeploy_deployment_group", _deployment_groups, _joined("app_name", "deployment_group_name", separator=":")),
    Kind("aws_ecs_cluster", _simple("aws_ecs_cluster", "name", _ecs_cluster, import_id=lambda arn: arn.rsplit("/", 1)[-1])),
    Kind("aws_ecs_service", _ecs_services),
    Kind("aws_lb", _simple("aws_lb", "name", _load_balancer)),
    Kind("aws_lb_target_group", _simple("aws_lb_target_group", "name", _target_group)),
    Kind("aws_lb_listener", _listeners),
    Kind("aws_lb_listener_rule", _listener_rules),
    Kind("aws_appautoscaling_target", _scalable_targets, _attribute("resource_id")),
    Kind("aws_wafv2_web_acl", _web_acls),
    Kind("aws_xray_sampling_rule", _simple("aws_xray_sampling_rule", "rule_name", _sampling_rule)),
    Kind("aws_xray_group", _simple("aws_xray_group", "group_name", _xray_group)),
    Kind("aws_api_gateway_domain_name", _simple("aws_api_gateway_domain_name", "domain_name", _domain_name)),
    Kind("aws_api_gateway_base_path_mapping", _base_path_mappings, _joined("domain_name", "base_path", separator="/")),
    Kind("aws_route53_record", _records, _record_state_identity),
)}

TAGGED_KINDS: dict[str, Kind] = {kind.resource_type: kind for kind in (
    Kind("aws_vpc", _ec2_kind("aws_vpc", "describe_vpcs", "Vpcs", "VpcId", "vpc", 90, "ec2 delete-vpc --vpc-id {}",
                              lambda ec2, identity: ec2.delete_vpc(VpcId=identity)), anonymous=True),
    Kind("aws_subnet", _ec2_kind("aws_subnet", "describe_subnets", "Subnets", "SubnetId", "subnet", 70, "ec2 delete-subnet --subnet-id {}",
                                 lambda ec2, identity: ec2.delete_subnet(SubnetId=identity)), anonymous=True),
    Kind("aws_internet_gateway", _internet_gateways, anonymous=True),
    Kind("aws_nat_gateway", _nat_gateways, anonymous=True),
    Kind("aws_eip", _elastic_ips, anonymous=True),
    Kind("aws_route_table", _route_tables, anonymous=True),
    Kind("aws_security_group", _security_groups, anonymous=True),
    Kind("aws_vpc_security_group_ingress_rule", _security_group_rules(egress=False), anonymous=True),
    Kind("aws_vpc_security_group_egress_rule", _security_group_rules(egress=True), anonymous=True),
    Kind("aws_vpc_endpoint", _ec2_kind("aws_vpc_endpoint", "describe_vpc_endpoints", "VpcEndpoints", "VpcEndpointId", "vpc-endpoint", 20,
                                       "ec2 delete-vpc-endpoints --vpc-endpoint-ids {}", lambda ec2, identity: ec2.delete_vpc_endpoints(VpcEndpointIds=[identity]),
                                       live=lambda endpoint: endpoint.get("State", "").lower() not in ("deleted", "deleting")), anonymous=True),
    Kind("aws_flow_log", _ec2_kind("aws_flow_log", "describe_flow_logs", "FlowLogs", "FlowLogId", "vpc-flow-log", 10, "ec2 delete-flow-logs --flow-log-ids {}",
                                   lambda ec2, identity: ec2.delete_flow_logs(FlowLogIds=[identity])), anonymous=True),
    Kind("aws_kms_key", _kms_keys, anonymous=True),
    Kind("aws_acm_certificate", _certificates, anonymous=True),
    Kind("aws_ecs_task_definition", _task_definitions, _attribute("arn"), anonymous=True),
    Kind("aws_api_gateway_rest_api", _api_gateway("aws_api_gateway_rest_api", "get_rest_apis", 110, "apigateway delete-rest-api --rest-api-id {}",
                                                  lambda client, identity: client.delete_rest_api(restApiId=identity)), anonymous=True),
    Kind("aws_api_gateway_api_key", _api_gateway("aws_api_gateway_api_key", "get_api_keys", 100, "apigateway delete-api-key --api-key {}",
                                                 lambda client, identity: client.delete_api_key(apiKey=identity)), anonymous=True),
    Kind("aws_api_gateway_usage_plan", _api_gateway("aws_api_gateway_usage_plan", "get_usage_plans", 100, "apigateway delete-usage-plan --usage-plan-id {}",
                                                    _delete_usage_plan), anonymous=True),
    Kind("aws_api_gateway_vpc_link", _api_gateway("aws_api_gateway_vpc_link", "get_vpc_links", 110, "apigateway delete-vpc-link --vpc-link-id {}",
                                                  lambda client, identity: client.delete_vpc_link(vpcLinkId=identity)), anonymous=True),
)}

_SETTING = "a setting of its parent: applying it again overwrites it, and it goes with the parent"
_CHILD = "part of its parent: it goes with it"
PARTS: dict[str, str] = {
    "aws_s3_bucket_versioning": _SETTING, "aws_s3_bucket_lifecycle_configuration": _SETTING, "aws_s3_bucket_ownership_controls": _SETTING,
    "aws_s3_bucket_policy": _SETTING, "aws_s3_bucket_public_access_block": _SETTING, "aws_s3_bucket_server_side_encryption_configuration": _SETTING,
    "aws_route": _CHILD, "aws_route_table_association": _CHILD,
    "aws_default_security_group": "the VPC's own default group, which Terraform adopts rather than creates: it goes with the VPC",
    "aws_iam_role_policy": _SETTING, "aws_sqs_queue_policy": _SETTING, "aws_sqs_queue_redrive_allow_policy": _SETTING,
    "aws_sns_topic_policy": _SETTING, "aws_secretsmanager_secret_rotation": _SETTING,
    "aws_lambda_function_event_invoke_config": _SETTING, "aws_cloudwatch_log_resource_policy": _SETTING,
    "aws_wafv2_web_acl_logging_configuration": _SETTING, "aws_wafv2_web_acl_association": _SETTING,
    "aws_cloudwatch_event_target": _SETTING,
    "aws_cloudwatch_log_metric_filter": "PutMetricFilter overwrites the filter of the same name; it goes with its log group", "aws_appautoscaling_policy": _SETTING, "aws_appautoscaling_scheduled_action": _SETTING,
    "aws_sns_topic_subscription": "Subscribe answers with the existing subscription; it goes with its topic",
    "aws_secretsmanager_secret_version": "a new version goes beside the old one; it goes with its secret",
    "aws_acm_certificate_validation": "no AWS object: a wait for the certificate",
    "aws_lb_target_group_attachment": "registering a target again changes nothing; it goes with its target group",
    "aws_api_gateway_resource": _CHILD, "aws_api_gateway_method": _CHILD, "aws_api_gateway_integration": _CHILD,
    "aws_api_gateway_model": _CHILD, "aws_api_gateway_request_validator": _CHILD, "aws_api_gateway_deployment": _CHILD,
    "aws_api_gateway_stage": _CHILD, "aws_api_gateway_method_settings": _CHILD, "aws_api_gateway_usage_plan_key": _CHILD,
}


def kind_of(resource_type: str) -> Kind | None:
    return NAMED_KINDS.get(resource_type) or TAGGED_KINDS.get(resource_type)
